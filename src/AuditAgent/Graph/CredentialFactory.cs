using System.Security.Cryptography.X509Certificates;
using Azure.Core;
using Azure.Identity;

namespace AuditAgent.Graph;

/// <summary>How the agent signs in to Entra ID (Graph:Credential).</summary>
public enum CredentialKind
{
    /// <summary>App registration with a client secret (Graph:ClientSecret or Graph:ClientSecretFile).</summary>
    ClientSecret,

    /// <summary>App registration with a certificate: a PFX or PEM file, or a thumbprint in the certificate store.</summary>
    ClientCertificate,

    /// <summary>The Azure resource's managed identity (system-assigned, or user-assigned with Graph:ManagedIdentityClientId).</summary>
    ManagedIdentity,

    /// <summary>Kubernetes workload identity: a federated token file (AZURE_FEDERATED_TOKEN_FILE).</summary>
    WorkloadIdentity,
}

/// <summary>Builds the Azure.Identity credential that configuration asks for. Secrets are read here and nowhere else.</summary>
public static class CredentialFactory
{
    /// <param name="retries">Sign-in retries; Graph:MaxRetries (at most 5) when not given.</param>
    public static TokenCredential Create(GraphOptions o, int? retries = null)
    {
        ArgumentNullException.ThrowIfNull(o);
        var attempts = retries ?? Math.Min(o.MaxRetries, 5);
        var authority = CloudEndpoints.For(o.Cloud).AuthorityHost;
        return o.Credential switch
        {
            CredentialKind.ClientSecret => new ClientSecretCredential(o.TenantId, o.ClientId, ReadSecret(o.ClientSecret, o.ClientSecretFile, "Graph:ClientSecretFile"),
                WithRetries(new ClientSecretCredentialOptions { AuthorityHost = authority }, attempts)),
            CredentialKind.ClientCertificate => new ClientCertificateCredential(o.TenantId, o.ClientId, LoadCertificate(o),
                WithRetries(new ClientCertificateCredentialOptions { AuthorityHost = authority, SendCertificateChain = o.SendCertificateChain }, attempts)),
            CredentialKind.ManagedIdentity => new ManagedIdentityCredential(string.IsNullOrWhiteSpace(o.ManagedIdentityClientId)
                ? ManagedIdentityId.SystemAssigned
                : ManagedIdentityId.FromUserAssignedClientId(o.ManagedIdentityClientId)),
            CredentialKind.WorkloadIdentity => new WorkloadIdentityCredential(WithRetries(
                new WorkloadIdentityCredentialOptions
                {
                    TenantId = o.TenantId ?? Environment.GetEnvironmentVariable("AZURE_TENANT_ID"),
                    ClientId = o.ClientId ?? Environment.GetEnvironmentVariable("AZURE_CLIENT_ID"),
                    TokenFilePath = o.FederatedTokenFile ?? Environment.GetEnvironmentVariable("AZURE_FEDERATED_TOKEN_FILE"),
                    AuthorityHost = authority,
                },
                attempts)),
            _ => throw new ArgumentOutOfRangeException(nameof(o), o.Credential, "Unknown credential kind."),
        };
    }

    /// <summary>Graph:MaxRetries bounds the sign-in retries too, so an unreachable authority fails in seconds, not minutes.</summary>
    private static T WithRetries<T>(T options, int retries)
        where T : TokenCredentialOptions
    {
        options.Retry.MaxRetries = retries;
        return options;
    }

    /// <summary>A secret from configuration or, better, from a mounted file (Kubernetes/Docker secrets).</summary>
    internal static string ReadSecret(string? value, string? file, string fileKey)
    {
        if (!string.IsNullOrEmpty(file))
        {
            try
            {
                return File.ReadAllText(file).Trim();
            }
            catch (IOException ex)
            {
                throw new InvalidOperationException($"{fileKey}: cannot read {file}: {ex.Message}", ex);
            }
            catch (UnauthorizedAccessException ex)
            {
                throw new InvalidOperationException($"{fileKey}: cannot read {file}: {ex.Message}", ex);
            }
        }

        return value ?? "";
    }

    private static X509Certificate2 LoadCertificate(GraphOptions o)
    {
        if (!string.IsNullOrWhiteSpace(o.CertificateThumbprint))
        {
            var location = o.CertificateStoreLocation == "LocalMachine" ? StoreLocation.LocalMachine : StoreLocation.CurrentUser;
            using var store = new X509Store(StoreName.My, location);
            store.Open(OpenFlags.ReadOnly);
            var found = store.Certificates.Find(X509FindType.FindByThumbprint, o.CertificateThumbprint.Replace(" ", "", StringComparison.Ordinal), validOnly: false);
            return found.Count > 0
                ? found[0]
                : throw new InvalidOperationException($"Graph:CertificateThumbprint: no certificate {o.CertificateThumbprint} in the {location} My store.");
        }

        var path = o.CertificatePath!;
        try
        {
            if (path.EndsWith(".pem", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".crt", StringComparison.OrdinalIgnoreCase))
            {
                return X509Certificate2.CreateFromPemFile(path, string.IsNullOrEmpty(o.CertificateKeyPath) ? null : o.CertificateKeyPath);
            }

            var password = ReadSecret(o.CertificatePassword, o.CertificatePasswordFile, "Graph:CertificatePasswordFile");
            return X509CertificateLoader.LoadPkcs12FromFile(path, string.IsNullOrEmpty(password) ? null : password);
        }
        catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException)
        {
            throw new InvalidOperationException($"Graph:CertificatePath: cannot load {path}: {ex.Message}", ex);
        }
    }
}
