// Preloaded into the CLI under test (NODE_OPTIONS=--import): nothing but loopback can be reached.
// A lookup of any other host (autoscaling.us-east-1.amazonaws.com, ...) fails as DNS does for an
// unknown name, and is written to stderr with a marker the tests look for, so a test fails when the
// code under test tries to leave 127.0.0.1 even if it handles the failure.
import dns from 'node:dns';

export const MARKER = '[offline] refused lookup of';

const loopback = (host) => host === 'localhost' || host === '::1' || /^127\./.test(host);

function refusal(host) {
  process.stderr.write(`${MARKER} ${host}\n`);
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {
    code: 'ENOTFOUND',
    errno: -3008,
    syscall: 'getaddrinfo',
    hostname: host,
  });
}

const lookup = dns.lookup;
dns.lookup = function (host, options, callback) {
  const done = typeof options === 'function' ? options : callback;
  if (loopback(host)) return lookup.call(dns, host, options, callback);
  const error = refusal(host);
  process.nextTick(() => done(error));
};

const lookupPromise = dns.promises.lookup;
dns.promises.lookup = async function (host, options) {
  if (loopback(host)) return lookupPromise.call(dns.promises, host, options);
  throw refusal(host);
};
