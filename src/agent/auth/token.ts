// HTTPS tokens: sent as an Authorization header through git's environment configuration
// (GIT_CONFIG_COUNT/KEY/VALUE), so the token is never on a command line and never in a URL.

/** The Authorization header for a token; "user:password" in the file is used as is. */
export function authorizationHeader(token: string): string {
  const pair = token.includes(':') ? token : `x-access-token:${token}`;
  return `Authorization: Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

/** Git environment that adds the header to every HTTP request of that git process. */
export function tokenGitEnv(token: string): Record<string, string> {
  return {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: authorizationHeader(token),
  };
}
