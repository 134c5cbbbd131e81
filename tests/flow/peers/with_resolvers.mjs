// Promise.withResolvers (ES2024, node >= 22) for node 20 and Debian 12's node 18:
// aws-local-stepfunctions 3.0.0 calls it for every Task state's timeout. Load it before the
// library: `node --import ./tests/flow/peers/with_resolvers.mjs ...`.
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers() {
      let resolve;
      let reject;
      const promise = new this((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
