// An OpenID provider (oidc-provider) on 127.0.0.1 issuing JWT access tokens for one API,
// with DPoP on: client credentials with a proof get a token bound to the proof's key.
// Usage: node provider.mjs PORT AUDIENCE
import Provider from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';

const [port, audience] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signing = { ...(await exportJWK(privateKey)), kid: 'interop-rs256', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  jwks: { keys: [signing] },
  clients: [{
    client_id: 'interop-client',
    client_secret: 'interop-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  features: {
    clientCredentials: { enabled: true },
    dPoP: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'read:orders read:products',
        audience,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});
provider.listen(Number(port), '127.0.0.1', () => console.log(`provider ${issuer}`));
