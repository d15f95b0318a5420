using AuditAgent.Graph;
using Microsoft.Extensions.Options;

namespace AuditAgent.Hosting;

/// <summary>
/// Validators that name the configuration key (Section:Key) and say how to set it, so a missing
/// setting is one readable line instead of a stack trace.
/// </summary>
internal static class OptionsValidation
{
    public static string Missing(string section, string key) =>
        $"{section}:{key} is required. Set it in appsettings.json or as the environment variable AUDITAGENT__{section.ToUpperInvariant()}__{key.ToUpperInvariant()}.";

    public static string Range(string section, string key, object value, int min, int max) =>
        $"{section}:{key} must be between {min} and {max} (it is {value}).";
}

internal sealed class GraphOptionsValidator : IValidateOptions<GraphOptions>
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

        if (o.BaseUrl is { Length: > 0 } url && !GraphClientFactory.IsAcceptableBaseUrl(url))
        {
            errors.Add($"{S}:BaseUrl must be an https URL (plain http only for localhost), e.g. https://graph.microsoft.com/v1.0 (it is '{url}').");
        }

        if (o.PageSize is < 1 or > 1000)
        {
            errors.Add(OptionsValidation.Range(S, nameof(o.PageSize), o.PageSize, 1, 1000));
        }

        if (o.MaxRetries is < 0 or > 10)
        {
            errors.Add(OptionsValidation.Range(S, nameof(o.MaxRetries), o.MaxRetries, 0, 10));
        }

        if (o.RetryDelaySeconds is < 0 or > 180)
        {
            errors.Add(OptionsValidation.Range(S, nameof(o.RetryDelaySeconds), o.RetryDelaySeconds, 0, 180));
        }

        if (o.TimeoutSeconds is < 1 or > 600)
        {
            errors.Add(OptionsValidation.Range(S, nameof(o.TimeoutSeconds), o.TimeoutSeconds, 1, 600));
        }

        if (o.MaxRetryAfterSeconds is < 1 or > 3600)
        {
            errors.Add(OptionsValidation.Range(S, nameof(o.MaxRetryAfterSeconds), o.MaxRetryAfterSeconds, 1, 3600));
        }

        if (o.MaxResponseMegabytes is < 1 or > 1024)
        {
            errors.Add(OptionsValidation.Range(S, nameof(o.MaxResponseMegabytes), o.MaxResponseMegabytes, 1, 1024));
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

internal sealed class ScanOptionsValidator : IValidateOptions<ScanOptions>
{
    public ValidateOptionsResult Validate(string? name, ScanOptions o)
    {
        var errors = new List<string>();
        if (o.LookbackDays is < 1 or > 3650)
        {
            errors.Add(OptionsValidation.Range(ScanOptions.Section, nameof(o.LookbackDays), o.LookbackDays, 1, 3650));
        }

        if (o.MaxParallelMailboxes is < 1 or > 256)
        {
            errors.Add(OptionsValidation.Range(ScanOptions.Section, nameof(o.MaxParallelMailboxes), o.MaxParallelMailboxes, 1, 256));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal sealed class DetectionOptionsValidator : IValidateOptions<DetectionOptions>
{
    public ValidateOptionsResult Validate(string? name, DetectionOptions o) =>
        o.VisibleExternalThreshold is < 2 or > 1000
            ? ValidateOptionsResult.Fail(OptionsValidation.Range(DetectionOptions.Section, nameof(o.VisibleExternalThreshold), o.VisibleExternalThreshold, 2, 1000))
            : ValidateOptionsResult.Success;
}

internal sealed class ClusterOptionsValidator : IValidateOptions<ClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, ClusterOptions o)
    {
        var errors = new List<string>();
        if (o.LeaseSeconds is < 3 or > 3600)
        {
            errors.Add(OptionsValidation.Range(ClusterOptions.Section, nameof(o.LeaseSeconds), o.LeaseSeconds, 3, 3600));
        }

        if (o.PollSeconds is < 1 or > 600)
        {
            errors.Add(OptionsValidation.Range(ClusterOptions.Section, nameof(o.PollSeconds), o.PollSeconds, 1, 600));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions o)
    {
        var errors = new List<string>();
        var postgres = o.Provider == StorageProvider.PostgreSql;
        if (!Enum.IsDefined(o.Provider))
        {
            errors.Add($"{StorageOptions.Section}:Provider must be Sqlite or PostgreSql (it is '{o.Provider}').");
        }

        if (!postgres && string.IsNullOrWhiteSpace(o.SqlitePath))
        {
            errors.Add(OptionsValidation.Missing(StorageOptions.Section, nameof(o.SqlitePath)));
        }

        if (postgres)
        {
            if (string.IsNullOrWhiteSpace(o.ConnectionString))
            {
                errors.Add(OptionsValidation.Missing(StorageOptions.Section, nameof(o.ConnectionString)) + " (an Npgsql connection string, e.g. Host=db;Database=auditagent;Username=auditagent)");
            }
            else
            {
                try
                {
                    _ = new Npgsql.NpgsqlConnectionStringBuilder(o.ConnectionString);
                }
                catch (ArgumentException ex)
                {
                    errors.Add($"{StorageOptions.Section}:ConnectionString is not a valid Npgsql connection string: {ex.Message}");
                }
            }
        }

        if (o.CommandTimeoutSeconds is < 1 or > 3600)
        {
            errors.Add(OptionsValidation.Range(StorageOptions.Section, nameof(o.CommandTimeoutSeconds), o.CommandTimeoutSeconds, 1, 3600));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
