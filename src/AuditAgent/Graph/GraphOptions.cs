using AuditAgent.Configuration;
using Microsoft.Extensions.Options;

namespace AuditAgent.Graph;

/// <summary>Section "Graph": where Graph is and how the agent signs in.</summary>
public sealed class GraphOptions
{
    public const string Section = "Graph";

    /// <summary>Global, UsGovernment, UsGovernmentDoD or China: authority, Graph URL and scope follow.</summary>
    public GraphCloud Cloud { get; set; } = GraphCloud.Global;

    /// <summary>Overrides the cloud's Graph URL (with the version segment); the simulator sets it.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>ClientSecret, ClientCertificate, ManagedIdentity or WorkloadIdentity.</summary>
    public CredentialKind Credential { get; set; } = CredentialKind.ClientSecret;

    public string? TenantId { get; set; }

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    /// <summary>A file holding the client secret (a mounted secret), instead of ClientSecret.</summary>
    public string? ClientSecretFile { get; set; }

    /// <summary>A PFX (.pfx/.p12) or PEM (.pem/.crt) certificate file.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key, when it is not in CertificatePath.</summary>
    public string? CertificateKeyPath { get; set; }

    public string? CertificatePassword { get; set; }

    public string? CertificatePasswordFile { get; set; }

    /// <summary>Or: the certificate's thumbprint in the My store of CertificateStoreLocation.</summary>
    public string? CertificateThumbprint { get; set; }

    /// <summary>CurrentUser or LocalMachine.</summary>
    public string CertificateStoreLocation { get; set; } = "CurrentUser";

    /// <summary>Send the certificate chain (subject name/issuer authentication).</summary>
    public bool SendCertificateChain { get; set; }

    /// <summary>The client id of a user-assigned managed identity; empty for the system-assigned one.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>The federated token file for workload identity; AZURE_FEDERATED_TOKEN_FILE when empty.</summary>
    public string? FederatedTokenFile { get; set; }

    /// <summary>A fixed bearer token instead of a credential. For the tenant simulator only.</summary>
    public string? AccessToken { get; set; }

    /// <summary>Messages per delta page (Prefer: odata.maxpagesize).</summary>
    [Within(1, 1000)]
    public int PageSize { get; set; } = 200;

    /// <summary>Retries of the SDK's retry handler for 429/503/504 (it honours Retry-After).</summary>
    [Within(0, 10)]
    public int MaxRetries { get; set; } = 6;

    /// <summary>Back-off base in seconds when Graph sends no Retry-After.</summary>
    [Within(0, 180)]
    public int RetryDelaySeconds { get; set; } = 3;

    /// <summary>The longest a request may take, from sending it to the last byte of its answer.</summary>
    [Within(1, 600)]
    public int TimeoutSeconds { get; set; } = 100;

    /// <summary>The longest Retry-After the agent waits for; Graph asking for more fails the request (the next scan retries).</summary>
    [Within(1, 3600)]
    public int MaxRetryAfterSeconds { get; set; } = 120;

    /// <summary>The most one response may hold; a larger page fails its mailbox instead of filling memory.</summary>
    [Within(1, 1024)]
    public int MaxResponseMegabytes { get; set; } = 64;
}

[OptionsValidator]
internal sealed partial class GraphOptionsValidator : IValidateOptions<GraphOptions>;

/// <summary>The rules that span several keys: which credential needs which settings, and the cloud and URL.</summary>
internal sealed class GraphCredentialValidator : IValidateOptions<GraphOptions>
{
    public ValidateOptionsResult Validate(string? name, GraphOptions o)
    {
        var errors = new List<string>();
        const string S = GraphOptions.Section;
        if (string.IsNullOrWhiteSpace(o.AccessToken))
        {
            ValidateCredential(o, errors);
        }

        if (!Enum.IsDefined(o.Cloud))
        {
            errors.Add($"{S}:Cloud must be one of {string.Join(", ", Enum.GetNames<GraphCloud>())}.");
        }

        if (o.BaseUrl is { Length: > 0 } url && !OptionsValidation.IsHttpsOrLoopback(url))
        {
            errors.Add($"{S}:BaseUrl must be an https URL (plain http only for localhost), e.g. https://graph.microsoft.com/v1.0 (it is '{url}').");
        }







        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateCredential(GraphOptions o, List<string> errors)
    {
        const string S = GraphOptions.Section;
        void Require(string? value, string key)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                errors.Add(OptionsValidation.Missing(S, key));
            }
        }

        void FileExists(string? path, string key)
        {
            if (!string.IsNullOrEmpty(path) && !File.Exists(path))
            {
                errors.Add($"{S}:{key}: {path} does not exist.");
            }
        }

        switch (o.Credential)
        {
            case CredentialKind.ClientSecret:
                Require(o.TenantId, nameof(o.TenantId));
                Require(o.ClientId, nameof(o.ClientId));
                if (string.IsNullOrWhiteSpace(o.ClientSecret) && string.IsNullOrWhiteSpace(o.ClientSecretFile))
                {
                    errors.Add(OptionsValidation.Missing(S, nameof(o.ClientSecret)) + $" Or name a file that holds it in {S}:{nameof(o.ClientSecretFile)}.");
                }

                FileExists(o.ClientSecretFile, nameof(o.ClientSecretFile));
                break;
            case CredentialKind.ClientCertificate:
                Require(o.TenantId, nameof(o.TenantId));
                Require(o.ClientId, nameof(o.ClientId));
                if (string.IsNullOrWhiteSpace(o.CertificatePath) == string.IsNullOrWhiteSpace(o.CertificateThumbprint))
                {
                    errors.Add($"{S}:{nameof(o.CertificatePath)} or {S}:{nameof(o.CertificateThumbprint)} is required for a certificate credential (exactly one of them).");
                }

                FileExists(o.CertificatePath, nameof(o.CertificatePath));
                FileExists(o.CertificateKeyPath, nameof(o.CertificateKeyPath));
                FileExists(o.CertificatePasswordFile, nameof(o.CertificatePasswordFile));
                if (o.CertificateStoreLocation is not ("CurrentUser" or "LocalMachine"))
                {
                    errors.Add($"{S}:{nameof(o.CertificateStoreLocation)} must be CurrentUser or LocalMachine (it is '{o.CertificateStoreLocation}').");
                }

                break;
            case CredentialKind.ManagedIdentity:
                break;
            case CredentialKind.WorkloadIdentity:
                if (string.IsNullOrWhiteSpace(o.TenantId) && Environment.GetEnvironmentVariable("AZURE_TENANT_ID") is null)
                {
                    errors.Add(OptionsValidation.Missing(S, nameof(o.TenantId)) + " (or AZURE_TENANT_ID, which the workload identity webhook sets)");
                }

                if (string.IsNullOrWhiteSpace(o.ClientId) && Environment.GetEnvironmentVariable("AZURE_CLIENT_ID") is null)
                {
                    errors.Add(OptionsValidation.Missing(S, nameof(o.ClientId)) + " (or AZURE_CLIENT_ID, which the workload identity webhook sets)");
                }

                var tokenFile = o.FederatedTokenFile ?? Environment.GetEnvironmentVariable("AZURE_FEDERATED_TOKEN_FILE");
                if (string.IsNullOrWhiteSpace(tokenFile))
                {
                    errors.Add(OptionsValidation.Missing(S, nameof(o.FederatedTokenFile)) + " (or AZURE_FEDERATED_TOKEN_FILE, which the workload identity webhook sets)");
                }

                break;
            default:
                errors.Add($"{S}:Credential must be one of {string.Join(", ", Enum.GetNames<CredentialKind>())}.");
                break;
        }
    }
}
