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

    /// <summary>For PostgreSql: an Npgsql connection string (keep the password out of it: Storage:PasswordFile).</summary>
    public string? ConnectionString { get; set; }

    /// <summary>For PostgreSql: a file holding the database password (a Docker or Kubernetes secret), used instead of one in the connection string.</summary>
    public string? PasswordFile { get; set; }

    /// <summary>The connection string with the password from <see cref="PasswordFile"/>, when one is named.</summary>
    public string? EffectiveConnectionString()
    {
        if (ConnectionString is null || PasswordFile is not { Length: > 0 } file)
        {
            return ConnectionString;
        }

        return new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString) { Password = File.ReadAllText(file).Trim() }.ToString();
    }

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

            if (o.PasswordFile is { Length: > 0 } file && !File.Exists(file))
            {
                errors.Add($"{StorageOptions.Section}:PasswordFile names {Path.GetFullPath(file)}, which does not exist.");
            }
        }


        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
