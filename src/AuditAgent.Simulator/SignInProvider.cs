using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace AuditAgent.Simulator;

/// <summary>A person who can sign in to the console through the simulator, with the app roles Entra would put in the token.</summary>
public sealed record SimSignInUser(string Name, string UserName, string ObjectId, IReadOnlyList<string> Roles);

/// <summary>Another application (a SIEM, say) that gets app-only tokens with the client-credentials grant, with the app roles an admin granted it.</summary>
public sealed record SimClientApp(string Name, string ClientId, string ObjectId, IReadOnlyList<string> Roles);

/// <summary>What the token endpoint gets wrong on purpose, so that tests show the console refuses it.</summary>
public enum SignInFault
{
    None,
    WrongAudience,
    WrongIssuer,
    WrongTenant,
    BadSignature,
    Expired,
}

/// <summary>
/// An OpenID Connect provider shaped like Entra ID's v2.0 endpoints, for the console's sign-in in the demo
/// and the tests: discovery at <c>/{tenant}/v2.0/.well-known/openid-configuration</c>, an authorize page to
/// pick a demo user (authorization code with PKCE), a token endpoint that checks the code verifier and the
/// client secret, and the signing key at <c>jwks_uri</c>. Id tokens are RS256 and carry <c>roles</c>,
/// <c>oid</c>, <c>preferred_username</c>, <c>tid</c> and the <c>nonce</c>, as Entra's do.
/// </summary>
public sealed class SignInProvider : IDisposable
{
    /// <summary>The client secret the token endpoint accepts (the demo configures the console with it).</summary>
    public const string ClientSecret = "simulator-console-secret";

    private readonly RSA _key = RSA.Create(2048);
    private readonly RSA _otherKey = RSA.Create(2048);
    private readonly string _keyId = Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
    private readonly ConcurrentDictionary<string, PendingCode> _codes = new(StringComparer.Ordinal);
    private readonly string _tenantId;

    public SignInProvider(string tenantId, string domain)
    {
        _tenantId = tenantId;
        Users =
        [
            new("Vera Viewer", $"vera.viewer@{domain}", Guid.NewGuid().ToString(), ["AuditAgent.Viewer"]),
            new("Ana Analyst", $"ana.analyst@{domain}", Guid.NewGuid().ToString(), ["AuditAgent.Analyst"]),
            new("Piet Privacy", $"piet.privacy@{domain}", Guid.NewGuid().ToString(), ["AuditAgent.PrivacyOfficer"]),
            new("Ada Admin", $"ada.admin@{domain}", Guid.NewGuid().ToString(), ["AuditAgent.Admin"]),
            new("Noor Norole", $"noor.norole@{domain}", Guid.NewGuid().ToString(), []),
        ];
    }

    /// <summary>The client secret every <see cref="Apps"/> entry authenticates with.</summary>
    public const string AppSecret = "simulator-app-secret";

    /// <summary>Applications that call the console's API with an app-only token: one granted AuditAgent.EventsReader, one granted nothing.</summary>
    public IReadOnlyList<SimClientApp> Apps { get; } =
    [
        new("Splunk", "7d3c1c55-5f2b-4a6e-9d4f-2b1e0c9a8f11", Guid.NewGuid().ToString(), ["AuditAgent.EventsReader"]),
        new("Some other app", "0b6f2a1e-3c4d-4e5f-8a9b-1c2d3e4f5a6b", Guid.NewGuid().ToString(), []),
    ];

    /// <summary>The demo users, one per console role and one with none.</summary>
    public IReadOnlyList<SimSignInUser> Users { get; }

    /// <summary>Set by a test: the next tokens are wrong in this way.</summary>
    public SignInFault Fault { get; set; }

    public void Dispose()
    {
        _key.Dispose();
        _otherKey.Dispose();
    }

    /// <summary>The authority the console is configured with: Entra's shape, <c>{origin}/{tenant}/v2.0</c>.</summary>
    public static string Authority(string origin, string tenantId) => $"{origin.TrimEnd('/')}/{tenantId}/v2.0";

    /// <summary>True when the request was one of the provider's; the answer has then been written.</summary>
    public async Task<bool> TryHandleAsync(HttpContext context, string origin)
    {
        var path = context.Request.Path.Value ?? "";
        var prefix = "/" + _tenantId;
        if (!path.StartsWith(prefix + "/", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = path[prefix.Length..];
        var authority = Authority(origin, _tenantId);
        switch (rest)
        {
            case "/v2.0/.well-known/openid-configuration":
                await WriteJsonAsync(context, 200, new Dictionary<string, object>
                {
                    ["issuer"] = authority,
                    ["authorization_endpoint"] = $"{origin}{prefix}/oauth2/v2.0/authorize",
                    ["token_endpoint"] = $"{origin}{prefix}/oauth2/v2.0/token",
                    ["end_session_endpoint"] = $"{origin}{prefix}/oauth2/v2.0/logout",
                    ["jwks_uri"] = $"{origin}{prefix}/discovery/v2.0/keys",
                    ["response_types_supported"] = Supported.ResponseTypes,
                    ["response_modes_supported"] = Supported.ResponseModes,
                    ["subject_types_supported"] = Supported.SubjectTypes,
                    ["id_token_signing_alg_values_supported"] = Supported.SigningAlgorithms,
                    ["scopes_supported"] = Supported.Scopes,
                    ["token_endpoint_auth_methods_supported"] = Supported.ClientAuthentication,
                    ["code_challenge_methods_supported"] = Supported.CodeChallengeMethods,
                    ["claims_supported"] = Supported.Claims,
                });
                return true;
            case "/discovery/v2.0/keys":
                var p = _key.ExportParameters(false);
                await WriteJsonAsync(context, 200, new
                {
                    keys = new[]
                    {
                        new { kty = "RSA", use = "sig", kid = _keyId, n = Base64Url(p.Modulus!), e = Base64Url(p.Exponent!) },
                    },
                });
                return true;
            case "/oauth2/v2.0/authorize":
                await AuthorizeAsync(context);
                return true;
            case "/oauth2/v2.0/token" when HttpMethods.IsPost(context.Request.Method):
                await TokenAsync(context, authority);
                return true;
            case "/oauth2/v2.0/logout":
                var after = context.Request.Query["post_logout_redirect_uri"].ToString();
                context.Response.Redirect(after.Length > 0 ? after : "/");
                return true;
            default:
                return false;
        }
    }

    /// <summary>A page listing the demo users; choosing one (or a <c>login_hint</c>) answers with a code.</summary>
    private async Task AuthorizeAsync(HttpContext context)
    {
        var q = context.Request.HasFormContentType ? (IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>>)await context.Request.ReadFormAsync() : context.Request.Query;
        var query = q.ToDictionary(kv => kv.Key, kv => kv.Value.ToString(), StringComparer.Ordinal);
        string Get(string key) => query.TryGetValue(key, out var v) ? v : "";
        var redirect = Get("redirect_uri");
        if (Get("response_type") != "code" || Get("code_challenge_method") != "S256" || Get("code_challenge").Length == 0
            || !Uri.TryCreate(redirect, UriKind.Absolute, out _))
        {
            await WriteJsonAsync(context, 400, new { error = "invalid_request", error_description = "AADSTS900144: code flow with PKCE (S256) and a redirect_uri is required." });
            return;
        }

        var chosen = Users.FirstOrDefault(u => u.UserName.Equals(Get("login_hint"), StringComparison.OrdinalIgnoreCase));
        if (chosen is null)
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            var page = new StringBuilder("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in (tenant simulator)</title></head><body><main>");
            page.Append("<h1>Sign in to the tenant simulator</h1><p>Pick a demo user. Each carries the app role Entra ID would put in the token.</p><ul>");
            foreach (var user in Users)
            {
                var link = QueryString.Create(query.Where(kv => kv.Key != "login_hint").Select(kv => new KeyValuePair<string, string?>(kv.Key, kv.Value)).Append(new("login_hint", user.UserName)));
                var roles = user.Roles.Count == 0 ? "no role" : string.Join(", ", user.Roles);
                page.Append(CultureInfoInvariant($"<li><a href=\"{WebUtility.HtmlEncode(context.Request.Path + link.ToUriComponent())}\">{WebUtility.HtmlEncode(user.Name)}</a> ({WebUtility.HtmlEncode(roles)})</li>"));
            }

            page.Append("</ul></main></body></html>");
            await context.Response.WriteAsync(page.ToString());
            return;
        }

        var code = Base64Url(RandomNumberGenerator.GetBytes(32));
        _codes[code] = new PendingCode(chosen, Get("client_id"), redirect, Get("code_challenge"), Get("nonce"), DateTimeOffset.UtcNow.AddMinutes(5));
        var target = redirect + (redirect.Contains('?', StringComparison.Ordinal) ? "&" : "?")
            + $"code={Uri.EscapeDataString(code)}&state={Uri.EscapeDataString(Get("state"))}";
        context.Response.Redirect(target);
    }

    private async Task TokenAsync(HttpContext context, string authority)
    {
        var form = await context.Request.ReadFormAsync();
        string Get(string key) => form[key].ToString();
        var (clientId, secret) = ClientCredentials(context, Get("client_id"), Get("client_secret"));
        if (Get("grant_type") == "client_credentials")
        {
            await AppTokenAsync(context, authority, clientId, secret, Get("scope"));
            return;
        }

        if (Get("grant_type") != "authorization_code" || !_codes.TryRemove(Get("code"), out var pending) || pending.ExpiresAt < DateTimeOffset.UtcNow)
        {
            await WriteJsonAsync(context, 400, new { error = "invalid_grant", error_description = "AADSTS70008: the code is unknown, used or expired." });
            return;
        }

        if (pending.ClientId != clientId || pending.RedirectUri != Get("redirect_uri"))
        {
            await WriteJsonAsync(context, 400, new { error = "invalid_grant", error_description = "AADSTS50148: the code was issued to another client or redirect URI." });
            return;
        }

        if (secret != ClientSecret)
        {
            await WriteJsonAsync(context, 401, new { error = "invalid_client", error_description = "AADSTS7000215: Invalid client secret provided." });
            return;
        }

        if (Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(Get("code_verifier")))) != pending.CodeChallenge)
        {
            await WriteJsonAsync(context, 400, new { error = "invalid_grant", error_description = "AADSTS501481: the code verifier does not match the code challenge." });
            return;
        }

        var now = DateTimeOffset.UtcNow;
        var fault = Fault;
        var tenant = fault == SignInFault.WrongTenant ? "99999999-9999-9999-9999-999999999999" : _tenantId;
        var claims = new Dictionary<string, object>
        {
            ["aud"] = fault == SignInFault.WrongAudience ? "00000000-0000-0000-0000-000000000000" : clientId,
            ["iss"] = fault == SignInFault.WrongIssuer ? "https://login.example.net/attacker/v2.0" : fault == SignInFault.WrongTenant ? authority.Replace(_tenantId, tenant, StringComparison.Ordinal) : authority,
            ["iat"] = (fault == SignInFault.Expired ? now.AddHours(-3) : now).ToUnixTimeSeconds(),
            ["nbf"] = (fault == SignInFault.Expired ? now.AddHours(-3) : now).ToUnixTimeSeconds(),
            ["exp"] = (fault == SignInFault.Expired ? now.AddHours(-2) : now.AddHours(1)).ToUnixTimeSeconds(),
            ["sub"] = pending.User.ObjectId,
            ["oid"] = pending.User.ObjectId,
            ["tid"] = tenant,
            ["name"] = pending.User.Name,
            ["preferred_username"] = pending.User.UserName,
            ["nonce"] = pending.Nonce,
            ["ver"] = "2.0",
        };
        if (pending.User.Roles.Count > 0)
        {
            claims["roles"] = pending.User.Roles;
        }

        var idToken = Sign(claims, fault == SignInFault.BadSignature ? _otherKey : _key);
        await WriteJsonAsync(context, 200, new { token_type = "Bearer", scope = "openid profile", expires_in = 3600, id_token = idToken, access_token = idToken });
    }

    /// <summary>
    /// The client-credentials grant, as Entra answers it: scope "{resource}/.default" gives a token for that
    /// audience with the app roles granted to the caller (no scp, idtyp "app").
    /// </summary>
    private async Task AppTokenAsync(HttpContext context, string authority, string clientId, string secret, string scope)
    {
        var app = Apps.FirstOrDefault(a => a.ClientId == clientId);
        if (app is null || secret != AppSecret)
        {
            await WriteJsonAsync(context, 401, new { error = "invalid_client", error_description = "AADSTS7000215: Invalid client secret provided." });
            return;
        }

        if (!scope.EndsWith("/.default", StringComparison.Ordinal))
        {
            await WriteJsonAsync(context, 400, new { error = "invalid_scope", error_description = "AADSTS1002012: The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier." });
            return;
        }

        var now = DateTimeOffset.UtcNow;
        var claims = new Dictionary<string, object>
        {
            ["aud"] = scope[..^"/.default".Length],
            ["iss"] = authority,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.AddHours(1).ToUnixTimeSeconds(),
            ["azp"] = app.ClientId,
            ["oid"] = app.ObjectId,
            ["sub"] = app.ObjectId,
            ["tid"] = _tenantId,
            ["idtyp"] = "app",
            ["ver"] = "2.0",
        };
        if (app.Roles.Count > 0)
        {
            claims["roles"] = app.Roles;
        }

        await WriteJsonAsync(context, 200, new { token_type = "Bearer", expires_in = 3599, access_token = Sign(claims, _key) });
    }

    private static (string ClientId, string Secret) ClientCredentials(HttpContext context, string formId, string formSecret)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim())).Split(':', 2);
            return (Uri.UnescapeDataString(pair[0]), pair.Length > 1 ? Uri.UnescapeDataString(pair[1]) : "");
        }

        return (formId, formSecret);
    }

    private string Sign(Dictionary<string, object> claims, RSA key)
    {
        var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new { alg = "RS256", typ = "JWT", kid = _keyId }));
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signature = key.SignData(Encoding.ASCII.GetBytes($"{header}.{payload}"), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{header}.{payload}.{Base64Url(signature)}";
    }

    private static string Base64Url(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    private static string CultureInfoInvariant(FormattableString text) => FormattableString.Invariant(text);

    private static async Task WriteJsonAsync(HttpContext context, int status, object body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    /// <summary>What Entra's discovery document lists.</summary>
    private static class Supported
    {
        public static readonly string[] ResponseTypes = ["code", "id_token", "code id_token"];
        public static readonly string[] ResponseModes = ["query", "fragment", "form_post"];
        public static readonly string[] SubjectTypes = ["pairwise"];
        public static readonly string[] SigningAlgorithms = ["RS256"];
        public static readonly string[] Scopes = ["openid", "profile", "email", "offline_access"];
        public static readonly string[] ClientAuthentication = ["client_secret_post", "client_secret_basic"];
        public static readonly string[] CodeChallengeMethods = ["S256"];
        public static readonly string[] Claims = ["sub", "iss", "aud", "exp", "iat", "nbf", "nonce", "name", "preferred_username", "oid", "tid", "roles"];
    }

    private sealed record PendingCode(SimSignInUser User, string ClientId, string RedirectUri, string CodeChallenge, string Nonce, DateTimeOffset ExpiresAt);
}
