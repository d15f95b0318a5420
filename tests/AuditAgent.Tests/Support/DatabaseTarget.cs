using AuditAgent.Storage;
using Microsoft.Extensions.Options;

namespace AuditAgent.Tests.Support;

/// <summary>
/// An empty database of one kind, for tests that open the store directly: a SQLite file in a folder of its own, or
/// a new database on the PostgreSQL test server. Everything is removed when disposed.
/// </summary>
public sealed class DatabaseTarget : IAsyncDisposable
{
    private readonly TempFolder _folder = new();
    private readonly Backends.TestDatabase? _postgres;

    private DatabaseTarget(Backends.TestDatabase? postgres) => _postgres = postgres;

    public string SqlitePath => Path.Combine(_folder.Path, "agent.db");

    public static async Task<DatabaseTarget> CreateAsync(Backend backend)
    {
        Backends.Require(backend);
        return new DatabaseTarget(backend == Backend.PostgreSql ? await Backends.CreatePostgreSqlAsync() : null);
    }

    /// <summary>A new <see cref="Database"/> over the same storage (as another agent, or a later start, would have).</summary>
    public Database NewDatabase() => new(Options.Create(_postgres is null
        ? new StorageOptions { SqlitePath = SqlitePath }
        : new StorageOptions { Provider = StorageProvider.PostgreSql, ConnectionString = _postgres.ConnectionString }));

    public async ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        _folder.Dispose();
    }
}
