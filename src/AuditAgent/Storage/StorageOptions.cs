using AuditAgent.Configuration;
using Microsoft.Extensions.Options;

namespace AuditAgent.Storage;

/// <summary>Where findings and incidents are kept.</summary>
public enum StorageProvider
{
    /// <summary>One file beside the agent: one machine, the default.</summary>
    Sqlite,

    /// <summary>A PostgreSQL server: production, several agents sharing the work.</summary>
    PostgreSql,
}

/// <summary>Section "Storage".</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Sqlite (default, one machine) or PostgreSql (production, several agents).</summary>
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>The SQLite database file, created (readable by its owner only) when missing.</summary>
    public string SqlitePath { get; set; } = "auditagent.db";

    /// <summary>For PostgreSql: an Npgsql connection string (keep the password in the environment).</summary>
    public string? ConnectionString { get; set; }

    [Within(1, 3600)]
    public int CommandTimeoutSeconds { get; set; } = 30;
}

[OptionsValidator]
internal sealed partial class StorageOptionsValidator : IValidateOptions<StorageOptions>;

/// <summary>What the provider needs: a file for SQLite, a valid connection string for PostgreSQL.</summary>
internal sealed class StorageProviderValidator : IValidateOptions<StorageOptions>
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


        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
