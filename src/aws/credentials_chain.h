// The default credentials chain with its HTTP client given. Private to src/aws and the tests.
#ifndef LOTE_SRC_AWS_CREDENTIALS_CHAIN_H_
#define LOTE_SRC_AWS_CREDENTIALS_CHAIN_H_

#include <memory>

#include "lote/aws/credentials.h"

namespace lote::aws::internal {

// NewDefaultCredentialsChain, except that `options.http` must be set (LOTE_CHECK): the public
// function fills it with NewCurlHttpClient() in default_credentials_chain.cc, a file of its own so
// that the chain builds, links and is tested without the curl client.
std::shared_ptr<CredentialsProvider> NewCredentialsChain(AwsEnvironment env,
                                                         ProviderOptions options);

}  // namespace lote::aws::internal

#endif  // LOTE_SRC_AWS_CREDENTIALS_CHAIN_H_
