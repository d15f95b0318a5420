using AuditAgent.Configuration;
using AuditAgent.Storage;
using Microsoft.Extensions.Options;

namespace AuditAgent.Protection;

/// <summary>
/// Section "Protection": where the key ring that seals exposed addresses comes from. At most one source.
/// With none, a SQLite agent creates a key file beside its database (owner-only); agents sharing a
/// PostgreSQL database must be given the same ring.
/// </summary>
public sealed class ProtectionOptions
{
    public const string Section = "Protection";

    /// <summary>A file with one base64 key per line, oldest first; the last one seals new data.</summary>
    public string? KeyFile { get; set; }

    /// <summary>One base64 key, e.g. from AUDITAGENT__PROTECTION__KEY (a ring of one).</summary>
    public string? Key { get; set; }

    /// <summary>An Azure Key Vault (https://NAME.vault.azure.net) whose secret holds the ring, read with the Graph credential.</summary>
    public string? KeyVaultUri { get; set; }

    /// <summary>The secret's name in Protection:KeyVaultUri.</summary>
    public string? KeyVaultSecretName { get; set; }
}

internal sealed class ProtectionOptionsValidator(IOptions<StorageOptions> storage) : IValidateOptions<ProtectionOptions>
{
    private const string S = ProtectionOptions.Section;

    public ValidateOptionsResult Validate(string? name, ProtectionOptions o)
    {
        var errors = new List<string>();
        var sources = new[] { o.KeyFile, o.Key, o.KeyVaultUri }.Count(v => !string.IsNullOrWhiteSpace(v));
        if (sources > 1)
        {
            errors.Add($"{S}:KeyFile, {S}:Key and {S}:KeyVaultUri are alternatives: set one of them.");
        }

        if (!string.IsNullOrWhiteSpace(o.KeyFile) && !File.Exists(o.KeyFile))
        {
            errors.Add($"{S}:KeyFile: {Path.GetFullPath(o.KeyFile)} does not exist (create it with `auditagent keys new > FILE`).");
        }

        if (!string.IsNullOrWhiteSpace(o.Key))
        {
            try
            {
                KeyRing.Parse(o.Key, $"{S}:Key");
            }
            catch (FormatException ex)
            {
                errors.Add(ex.Message);
            }
        }

        if (!string.IsNullOrWhiteSpace(o.KeyVaultUri))
        {
            if (!Uri.TryCreate(o.KeyVaultUri, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
            {
                errors.Add($"{S}:KeyVaultUri must be an https URL such as https://contoso-audit.vault.azure.net (it is '{o.KeyVaultUri}').");
            }

            if (string.IsNullOrWhiteSpace(o.KeyVaultSecretName))
            {
                errors.Add(OptionsValidation.Missing(S, nameof(o.KeyVaultSecretName)) + " (the secret that holds the key ring)");
            }
        }

        if (sources == 0 && storage.Value.Provider == Storage.StorageProvider.PostgreSql)
        {
            errors.Add($"{S}:KeyFile, {S}:Key or {S}:KeyVaultUri is required with PostgreSQL: every agent sharing the database needs the same key ring (create a key with `auditagent keys new`).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
