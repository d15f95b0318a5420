using Npgsql;

namespace AuditAgent.Tests.Support;

public enum Backend
{
    Sqlite,
    PostgreSql,
}

/// <summary>
/// Store behaviours run once per database. PostgreSQL comes from AUDITAGENT_TEST_POSTGRES (.ci/run starts
/// a throwaway server and sets it); without it the PostgreSQL cases are skipped with that reason, except
/// in CI, where a missing database is a failure.
/// </summary>
public static class Backends
{
    public static TheoryData<Backend> All => [Backend.Sqlite, Backend.PostgreSql];

    public static string? Server => Environment.GetEnvironmentVariable("AUDITAGENT_TEST_POSTGRES");

    public static void Require(Backend backend)
    {
        if (backend != Backend.PostgreSql || Server is not null)
        {
            return;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException("CI=true but AUDITAGENT_TEST_POSTGRES is not set: .ci/run must start PostgreSQL.");
        }

        Skip.If(true, "PostgreSQL is not configured here: set AUDITAGENT_TEST_POSTGRES to a server's connection string (.ci/run does).");
    }

    /// <summary>A new, empty database on the test server, dropped when disposed.</summary>
    public static async Task<TestDatabase> CreatePostgreSqlAsync()
    {
        var name = "aa_" + Guid.NewGuid().ToString("N")[..16];
        await using (var admin = new NpgsqlConnection(Server))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }

        return new TestDatabase(name, new NpgsqlConnectionStringBuilder(Server) { Database = name }.ToString());
    }

    public sealed class TestDatabase(string name, string connectionString) : IAsyncDisposable
    {
        public string ConnectionString { get; } = connectionString;

        public async ValueTask DisposeAsync()
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(Server);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
