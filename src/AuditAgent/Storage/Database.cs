using System.Data.Common;
using System.Globalization;
using Dapper;
using DbUp;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace AuditAgent.Storage;

/// <summary>PostgreSQL advisory lock keys: what agents sharing a database take turns at. Unique across the product.</summary>
public static class LockKeys
{
    /// <summary>Applying migrations (agents starting together).</summary>
    public const long Migrations = 7413000001;

    /// <summary>Turning findings into incidents (one agent at a time decides).</summary>
    public const long IncidentProcessing = 7413000002;

    /// <summary>Sealing rows stored in plain text by an older version.</summary>
    public const long ProtectionUpgrade = 7413000003;

    /// <summary>Opening a scan cycle.</summary>
    public const long ScanCycle = 7413000004;

    /// <summary>Pushing events to the sinks (one agent at a time, so no receiver gets an event twice).</summary>
    public const long EventPush = 7413000005;

    /// <summary>Writing events (held until commit, so that ids become visible in order).</summary>
    public const long EventAppend = 7413000006;
}

/// <summary>The database records a migration this binary does not have.</summary>
public sealed class DatabaseTooNewException(string message) : ExplainedException(message);

/// <summary>The one place that opens database connections and applies migrations.</summary>
public sealed class Database
{
    private readonly StorageOptions _options;
    private string _connectionString;
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
        IsPostgreSql = _options.Provider == StorageProvider.PostgreSql;
        if (IsPostgreSql)
        {
            _connectionString = _options.EffectiveConnectionString()!;
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

    /// <summary>A Dapper command with this database's timeout: every store builds its commands here.</summary>
    public CommandDefinition Command(string sql, object? parameters = null, DbTransaction? tx = null, CancellationToken ct = default) =>
        new(sql, parameters, tx, CommandTimeout, cancellationToken: ct);

    /// <summary>
    /// For commands that only read, on a SQLite file this process cannot write (a read-only mount, or
    /// another user's file): opened read-only and immutable, since without a writable folder SQLite cannot
    /// create the WAL index it otherwise needs. The schema must already be this version's.
    /// </summary>
    public async Task OpenReadOnlyAsync(CancellationToken ct)
    {
        var uri = "file:" + Path.Replace("%", "%25", StringComparison.Ordinal).Replace("?", "%3f", StringComparison.Ordinal).Replace("#", "%23", StringComparison.Ordinal) + "?immutable=1";
        _connectionString = new SqliteConnectionStringBuilder { DataSource = uri, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        await using var connection = await OpenAsync(ct);
        var known = KnownScripts(postgres: false);
        var applied = (await connection.QueryAsync<string>(new CommandDefinition("SELECT ScriptName FROM SchemaVersions", cancellationToken: ct))).ToList();
        if (applied.Where(a => !known.Contains(a, StringComparer.Ordinal)).Order(StringComparer.Ordinal).LastOrDefault() is { } newer)
        {
            throw TooNew(newer, known[^1]);
        }

        if (known.FirstOrDefault(k => !applied.Contains(k, StringComparer.Ordinal)) is { } pending)
        {
            throw new ExplainedException($"The database {Path} is read-only here and still needs {ScriptVersion(pending)} of this version; run any command once where it can be written.");
        }
    }

    /// <summary>The migration scripts built into this binary, in order.</summary>
    private static List<string> KnownScripts(bool postgres) => typeof(Database).Assembly.GetManifestResourceNames()
        .Where(n => n.Contains(".Storage.Migrations.", StringComparison.Ordinal) && n.Contains(".PostgreSql.", StringComparison.Ordinal) == postgres && n.EndsWith(".sql", StringComparison.Ordinal))
        .Order(StringComparer.Ordinal)
        .ToList();

    /// <summary>Why another user could read this SQLite file (its mode lets them), or null.</summary>
    public string? PermissionProblem()
    {
        if (IsPostgreSql || OperatingSystem.IsWindows() || !File.Exists(Path))
        {
            return null;
        }

        var mode = File.GetUnixFileMode(Path);
        const UnixFileMode Others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
        return (mode & Others) == 0
            ? null
            : $"{Path} holds personal data and can be read by other users (mode {Convert.ToString((int)mode, 8)}); run: chmod 600 {Path}";
    }

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
            var create = OwnerOnly.Write(FileMode.CreateNew);
            try
            {
                using var created = new FileStream(Path, create);
            }
            catch (IOException) when (File.Exists(Path))
            {
                // Another agent starting at the same moment created it.
            }
        }

        await using var connection = await OpenAsync(ct);
        // WAL lets the status command read while a scan writes.
        await connection.ExecuteAsync("PRAGMA journal_mode = WAL;");

        // Two agents starting on a new file must not both create the tables: BEGIN IMMEDIATE takes SQLite's
        // write lock (the other waits for it, up to busy_timeout) and every pending script runs inside
        // that one transaction, so the second agent finds them applied. Issued as SQL, not through
        // BeginTransaction, so that DbUp can run its commands on the same connection.
        await connection.ExecuteAsync("BEGIN IMMEDIATE");
        try
        {
            var upgrader = DeployChanges.To
                .SqliteDatabase(new DbUp.Sqlite.Helpers.SharedConnection(connection))
                .WithScriptsEmbeddedInAssembly(typeof(Database).Assembly, name => name.Contains(".Storage.Migrations.", StringComparison.Ordinal) && !name.Contains(".PostgreSql.", StringComparison.Ordinal))
                .WithoutTransaction()
                .LogToNowhere()
                .Build();
            Upgrade(upgrader);
            await connection.ExecuteAsync("COMMIT");
        }
        catch
        {
            await connection.ExecuteAsync("ROLLBACK");
            throw;
        }
    }

    /// <summary>
    /// Refuses a database written by a newer AuditAgent (a migration this binary does not know is
    /// recorded): an older binary would write rows the newer schema does not expect, or fail on a
    /// renamed column. Otherwise applies what is pending.
    /// </summary>
    private static void Upgrade(DbUp.Engine.UpgradeEngine upgrader)
    {
        var known = upgrader.GetDiscoveredScripts().Select(s => s.Name).Order(StringComparer.Ordinal).ToList();
        var unknown = upgrader.GetExecutedScripts().Where(s => !known.Contains(s, StringComparer.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            throw TooNew(unknown[^1], known[^1]);
        }

        var upgrade = upgrader.PerformUpgrade();
        if (!upgrade.Successful)
        {
            throw new InvalidOperationException($"Database migration {upgrade.ErrorScript?.Name} failed: {upgrade.Error.Message}", upgrade.Error);
        }
    }

    private static DatabaseTooNewException TooNew(string newest, string newestKnown) =>
        new($"This database was written by a newer AuditAgent: its schema has {ScriptVersion(newest)}, and this version knows up to {ScriptVersion(newestKnown)}. Run the newer AuditAgent (or restore a backup made by this one); nothing was changed.");

    /// <summary>"AuditAgent.Storage.Migrations.0007_mailbox_skipped_messages.sql" as "migration 0007_mailbox_skipped_messages".</summary>
    private static string ScriptVersion(string script)
    {
        var name = script.EndsWith(".sql", StringComparison.Ordinal) ? script[..^4] : script;
        return "migration " + name[(name.LastIndexOf('.') + 1)..];
    }

    /// <summary>
    /// Applies the PostgreSQL scripts under an advisory lock, so that agents starting together do not
    /// race: the first migrates, the others wait and then find nothing to do.
    /// </summary>
    private async Task MigratePostgreSqlAsync(CancellationToken ct)
    {
        await using var lockConnection = await OpenAsync(ct);
        await lockConnection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@key)", new { key = LockKeys.Migrations }, commandTimeout: 0, cancellationToken: ct));
        try
        {
            Upgrade(DeployChanges.To
                .PostgresqlDatabase(_connectionString)
                .WithScriptsEmbeddedInAssembly(typeof(Database).Assembly, name => name.Contains(".Storage.Migrations.PostgreSql.", StringComparison.Ordinal))
                .WithTransactionPerScript()
                .LogToNowhere()
                .Build());
        }
        finally
        {
            await lockConnection.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key = LockKeys.Migrations });
        }
    }

    /// <summary>
    /// What is wrong with the stored data, or null: SQLite's integrity_check over every page and index;
    /// on PostgreSQL (whose server checks its own pages) a read of every table of ours.
    /// </summary>
    /// <summary>
    /// Rows of a table and the bytes they take on disk with the table's indexes. PostgreSQL says
    /// (pg_total_relation_size); for SQLite, whose bundled build has no dbstat table, the database is copied
    /// (VACUUM INTO), every other table dropped from the copy, and the compacted copy's size taken, less its
    /// first page (the schema).
    /// </summary>
    public async Task<(long Rows, long Bytes)> TableSizeAsync(string table, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        var rows = await c.ExecuteScalarAsync<long>(Command($"SELECT COUNT(*) FROM {table}", ct: ct));
        if (IsPostgreSql)
        {
            return (rows, await c.ExecuteScalarAsync<long>(Command("SELECT pg_total_relation_size(CAST(@table AS regclass))", new { table }, ct: ct)));
        }

        var copy = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"auditagent-size-{Guid.NewGuid():N}.db");
        try
        {
            await c.ExecuteAsync(Command("VACUUM INTO @copy", new { copy }, ct: ct));
            await using (var only = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = copy, Pooling = false, ForeignKeys = false }.ToString()))
            {
                await only.OpenAsync(ct);
                foreach (var other in (await only.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> @table AND name NOT LIKE 'sqlite_%'", new { table })).ToList())
                {
                    await only.ExecuteAsync($"DROP TABLE \"{other}\"");
                }

                await only.ExecuteAsync("VACUUM");
                var (pages, size) = (await only.ExecuteScalarAsync<long>("PRAGMA page_count"), await only.ExecuteScalarAsync<long>("PRAGMA page_size"));
                return (rows, (pages - 1) * size);
            }
        }
        finally
        {
            File.Delete(copy);
        }
    }

    public async Task<string?> IntegrityProblemAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        if (!IsPostgreSql)
        {
            var lines = (await connection.QueryAsync<string>(new CommandDefinition("PRAGMA integrity_check(20)", commandTimeout: 0, cancellationToken: ct))).ToList();
            return lines is ["ok"] ? null : string.Join("; ", lines.Take(3)) + (lines.Count > 3 ? $" (and {lines.Count - 3} more)" : "");
        }

        var tables = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'qrtz%'", cancellationToken: ct));
        foreach (var table in tables)
        {
            try
            {
                await connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM \"{table}\"", commandTimeout: 0, cancellationToken: ct));
            }
            catch (Npgsql.PostgresException ex)
            {
                return $"table {table}: {ex.MessageText}";
            }
        }

        return null;
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

    /// <summary>A time as it is stored: UTC ISO-8601 text with milliseconds, which sorts and compares correctly as text.</summary>
    public static string TimestampText(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    /// <summary>
    /// Timestamps are stored as UTC ISO-8601 text in SQLite, which sorts and compares correctly as text.
    /// </summary>
    private sealed class UtcTimestampHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override void SetValue(System.Data.IDbDataParameter parameter, DateTimeOffset value)
        {
            parameter.DbType = System.Data.DbType.String;
            parameter.Value = TimestampText(value);
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
