using AuditAgent.Protection;
using AuditAgent.Storage;

namespace AuditAgent.Hosting;

/// <summary>
/// The one way a command or the worker brings its database up to date: the schema scripts
/// (<see cref="Database.MigrateAsync"/>), then the recorded data steps: the one that needs the key ring, and chaining timelines written before the chain.
/// </summary>
public sealed class DatabaseMigrator(Database database, RecipientUpgrade recipients, TimelineChainUpgrade timelines)
{
    public async Task MigrateAsync(CancellationToken ct)
    {
        await database.MigrateAsync(ct);
        await recipients.RunAsync(ct);
        await timelines.RunAsync(ct);
    }
}
