// The one place the credentials chain meets the curl client (see credentials_chain.h).
#include <memory>
#include <utility>

#include "aws/credentials_chain.h"
#include "lote/aws/credentials.h"
#include "lote/aws/http.h"

namespace lote::aws {

std::shared_ptr<CredentialsProvider> NewDefaultCredentialsChain(AwsEnvironment env,
                                                                ProviderOptions options) {
  if (!options.http) options.http = NewCurlHttpClient();
  return internal::NewCredentialsChain(std::move(env), std::move(options));
}

}  // namespace lote::aws
