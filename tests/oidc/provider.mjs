// A real OpenID Connect provider (panva/node-oidc-provider) on loopback, for the sign-in
// tests. Its development login form accepts any password: the login names the account.
//   OIDC_PORT      the port to listen on (127.0.0.1)
//   OIDC_CLIENT    JSON: the client's metadata (client_id, client_secret, redirect_uris, ...)
//   OIDC_ACCOUNTS  JSON: {login: {email, email_verified, given_name, family_name, siret}}
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [JSON.parse(process.env.OIDC_CLIENT)],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['given_name', 'family_name'],
    siret: ['siret'],
  },
  pkce: { required: () => true },
  cookies: { keys: ['a test provider, not a secret'] },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  async findAccount(ctx, id) {
    if (!(id in accounts)) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) };
  },
});

provider.listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
