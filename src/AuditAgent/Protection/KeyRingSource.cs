using AuditAgent.Graph;
using AuditAgent.Hosting;
using AuditAgent.Storage;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AuditAgent.Protection;

/// <summary>Finds the key ring: a file, a setting, an Azure Key Vault secret, or a key file it creates beside a SQLite database.</summary>
public sealed class KeyRingSource(Database database, IOptions<ProtectionOptions> options, IOptions<GraphOptions> graph, ILogger<KeyRingSource> logger)
{
    /// <summary>Where the ring comes from, for messages: never the key itself.</summary>
    public string Describe()
    {
        var o = options.Value;
        return !string.IsNullOrWhiteSpace(o.KeyFile) ? $"{ProtectionOptions.Section}:KeyFile ({Path.GetFullPath(o.KeyFile)})"
            : !string.IsNullOrWhiteSpace(o.Key) ? $"{ProtectionOptions.Section}:Key"
            : !string.IsNullOrWhiteSpace(o.KeyVaultUri) ? $"Key Vault secret {o.KeyVaultSecretName} in {o.KeyVaultUri}"
            : $"the key file beside the database ({DefaultKeyFile})";
    }

    private string DefaultKeyFile => database.Path + ".key";

    /// <summary>The ring from Protection:KeyFile, Protection:Key or Key Vault; on SQLite with none set, the key file beside the database (created, owner-only, when missing).</summary>
    public async Task<KeyRing> LoadAsync(CancellationToken ct)
    {
        var o = options.Value;
        if (!string.IsNullOrWhiteSpace(o.KeyFile))
        {
            return KeyRing.Parse(await File.ReadAllTextAsync(o.KeyFile, ct), $"{ProtectionOptions.Section}:KeyFile {Path.GetFullPath(o.KeyFile)}");
        }

        if (!string.IsNullOrWhiteSpace(o.Key))
        {
            return KeyRing.Parse(o.Key, $"{ProtectionOptions.Section}:Key");
        }

        if (!string.IsNullOrWhiteSpace(o.KeyVaultUri))
        {
            var client = new SecretClient(new Uri(o.KeyVaultUri), CredentialFactory.Create(graph.Value));
            var secret = await client.GetSecretAsync(o.KeyVaultSecretName, cancellationToken: ct);
            return KeyRing.Parse(secret.Value.Value, $"Key Vault secret {o.KeyVaultSecretName}");
        }

        if (database.IsPostgreSql)
        {
            throw new InvalidOperationException($"{ProtectionOptions.Section}:KeyFile, {ProtectionOptions.Section}:Key or {ProtectionOptions.Section}:KeyVaultUri is required with PostgreSQL.");
        }

        // One machine, nothing configured: a key file beside the database, readable by its owner only.
        // Written whole to a temporary file and then moved into place, so a crash never leaves half a key.
        var path = DefaultKeyFile;
        // Agents starting together on one database take turns (an exclusive lock on a file beside it): a rename
        // that must not overwrite is not atomic on Linux, so two could each create a key and one lose its own.
        await using var turn = await TakeTurnAsync($"{path}.lock", ct);
        if (!File.Exists(path))
        {
            var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
            var create = OwnerOnly.Write(FileMode.Create);

            await using (var file = new FileStream(temporary, create))
            await using (var writer = new StreamWriter(file))
            {
                await writer.WriteAsync($"# AuditAgent key ring: seals the exposed addresses in {Path.GetFileName(database.Path)}. Back it up apart from the database.\n{KeyRing.NewKey()}\n");
                await writer.FlushAsync(ct);
                file.Flush(flushToDisk: true);
            }

            try
            {
                File.Move(temporary, path, overwrite: false);
                logger.KeyFileCreated(path);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first: use that one.
                File.Delete(temporary);
            }
        }

        return KeyRing.Parse(await File.ReadAllTextAsync(path, ct), path);
    }

    /// <summary>
    /// Opens the lock file exclusively, waiting while another agent (or another host in this process) holds it;
    /// creating a key takes milliseconds, so a lock held for a minute is a fault (a full or read-only disk), not a turn.
    /// </summary>
    private static async Task<FileStream> TakeTurnAsync(string lockPath, CancellationToken ct)
    {
        var options = OwnerOnly.Write(FileMode.OpenOrCreate);
        options.Share = FileShare.None;
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            try
            {
                return new FileStream(lockPath, options);
            }
            catch (IOException) when (DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), ct);
            }
            catch (IOException ex)
            {
                throw new ExplainedException($"Could not take the lock file {lockPath} beside the database for a minute to create the key file: {ex.Message}", ex);
            }
        }
    }
}
