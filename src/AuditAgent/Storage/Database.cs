using System.Data.Common;
using System.Globalization;
using AuditAgent.Hosting;
using Dapper;
using DbUp;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace AuditAgent.Storage;

/// <summary>The one place that opens database connections and applies migrations.</summary>
public sealed class Database
{
    private readonly StorageOptions _options;
    private readonly string _connectionString;
    private readonly Lazy<Npgsql.NpgsqlDataSource>? _postgres;

    static Database()
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        SqlMapper.RemoveTypeMap(typeof(DateTimeOffset));
        SqlMapper.RemoveTypeMap(typeof(DateTimeOffset?));
        SqlMapper.AddTypeHandler(new UtcTimestampHandler());
    }

    public Database(IOptions<StorageOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        IsPostgreSql = _options.Provider.Equals("PostgreSql", StringComparison.OrdinalIgnoreCase);
        if (IsPostgreSql)
        {
            _connectionString = _options.ConnectionString!;
            _postgres = new Lazy<Npgsql.NpgsqlDataSource>(() => Npgsql.NpgsqlDataSource.Create(_connectionString));
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(_connectionString);
            Path = $"PostgreSQL database {builder.Database} on {builder.Host}:{builder.Port}";
            return;
        }

        Path = System.IO.Path.GetFullPath(_options.SqlitePath);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = _options.CommandTimeoutSeconds,
        }.ToString();
    }

    /// <summary>The SQLite file's full path, or which PostgreSQL database (never the password).</summary>
    public string Path { get; }

    /// <summary>Storage:Provider is PostgreSql: several agents can share the database.</summary>
    public bool IsPostgreSql { get; }

    public int CommandTimeout => _options.CommandTimeoutSeconds;

    /// <summary>
    /// Serialises a read-decide-write transaction across agents sharing the database: PostgreSQL takes a
    /// transaction-scoped advisory lock; SQLite transactions already take the write lock when they begin.
    /// </summary>
    public async Task LockAsync(DbConnection connection, DbTransaction transaction, long key, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (IsPostgreSql)
        {
            await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(@key)", new { key }, transaction, 0, cancellationToken: ct));
        }
    }

    /// <summary>
    /// "column is one of the list in @parameter", in this database's dialect: Dapper expands a list for
    /// SQLite's IN, while Npgsql takes it as one array parameter. With SkipLocked, the SQL differences between them.
    /// </summary>
    public string InList(string column, string parameter) => IsPostgreSql ? $"{column} = ANY(@{parameter})" : $"{column} IN @{parameter}";

    /// <summary>
    /// Lets concurrent claims pass over rows another agent is claiming (PostgreSQL); SQLite has one
    /// writer at a time, so it needs nothing.
    /// </summary>
    public string SkipLocked => IsPostgreSql ? "FOR UPDATE SKIP LOCKED" : "";

    /// <summary>Locks the rows read until the transaction ends (PostgreSQL); SQLite's write transaction already does.</summary>
    public string ForUpdate => IsPostgreSql ? "FOR UPDATE" : "";

    public async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        if (_postgres is not null)
        {
            return await _postgres.Value.OpenConnectionAsync(ct);
        }

        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(ct);
        // busy_timeout lets writers wait for each other instead of failing with SQLITE_BUSY.
        await using var pragma = connection.CreateCommand();
        // synchronous=NORMAL is safe in WAL mode: a crash never corrupts or half-applies a transaction
        // (findings and their delta link stay together); a power cut may lose the last commits, which the
        // next scan reads again.
        pragma.CommandText = $"PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = {_options.CommandTimeoutSeconds * 1000};";
        await pragma.ExecuteNonQueryAsync(ct);
        return connection;
    }

    /// <summary>Creates the file (owner-only) when missing and applies pending migration scripts in order.</summary>
    public async Task MigrateAsync(CancellationToken ct)
    {
        if (IsPostgreSql)
        {
            await MigratePostgreSqlAsync(ct);
            return;
        }

        var directory = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        if (!File.Exists(Path))
        {
            // Findings hold personal data: nobody but the agent's own user may read the file.
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using var created = new FileStream(Path, create);
        }

        await using (var connection = await OpenAsync(ct))
        {
            // WAL lets the status command read while a scan writes.
            await connection.ExecuteAsync("PRAGMA journal_mode = WAL;");
        }

        var upgrade = DeployChanges.To
            .SqliteDatabase(_connectionString)
            .WithScriptsEmbeddedInAssembly(typeof(Database).Assembly, name => name.Contains(".Storage.Migrations.", StringComparison.Ordinal) && !name.Contains(".PostgreSql.", StringComparison.Ordinal))
            .WithTransactionPerScript()
            .LogToNowhere()
            .Build()
            .PerformUpgrade();
        if (!upgrade.Successful)
        {
            throw new InvalidOperationException($"Database migration {upgrade.ErrorScript?.Name} failed: {upgrade.Error.Message}", upgrade.Error);
        }
    }

    /// <summary>
    /// Applies the PostgreSQL scripts under an advisory lock, so that agents starting together do not
    /// race: the first migrates, the others wait and then find nothing to do.
    /// </summary>
    private async Task MigratePostgreSqlAsync(CancellationToken ct)
    {
        await using var lockConnection = await OpenAsync(ct);
        await lockConnection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(7413000001)", commandTimeout: 0, cancellationToken: ct));
        try
        {
            var upgrade = DeployChanges.To
                .PostgresqlDatabase(_connectionString)
                .WithScriptsEmbeddedInAssembly(typeof(Database).Assembly, name => name.Contains(".Storage.Migrations.PostgreSql.", StringComparison.Ordinal))
                .WithTransactionPerScript()
                .LogToNowhere()
                .Build()
                .PerformUpgrade();
            if (!upgrade.Successful)
            {
                throw new InvalidOperationException($"Database migration {upgrade.ErrorScript?.Name} failed: {upgrade.Error.Message}", upgrade.Error);
            }
        }
        finally
        {
            await lockConnection.ExecuteAsync("SELECT pg_advisory_unlock(7413000001)");
        }
    }

    public async Task SetMetaAsync(string key, string value, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO meta (key, value) VALUES (@key, @value) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            new { key, value },
            commandTimeout: CommandTimeout,
            cancellationToken: ct));
    }

    /// <summary>Reads a meta value from a database file without migrating it (null when absent).</summary>
    public static async Task<string?> ReadMetaAsync(string path, string key, CancellationToken ct)
    {
        var builder = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false };
        await using var connection = new SqliteConnection(builder.ToString());
        await connection.OpenAsync(ct);
        var hasMeta = await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
        return hasMeta == 0 ? null : await connection.ExecuteScalarAsync<string?>("SELECT value FROM meta WHERE key = @key", new { key });
    }

    /// <summary>
    /// Timestamps are stored as UTC ISO-8601 text in SQLite, which sorts and compares correctly as text.
    /// </summary>
    private sealed class UtcTimestampHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override void SetValue(System.Data.IDbDataParameter parameter, DateTimeOffset value)
        {
            parameter.DbType = System.Data.DbType.String;
            parameter.Value = value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        }

        public override DateTimeOffset Parse(object value) => value switch
        {
            DateTimeOffset d => d,
            DateTime d => new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)),
            string s => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
            _ => throw new InvalidCastException($"Cannot read a timestamp from {value.GetType().Name}."),
        };
    }
}
