using AuditAgent.Hosting;
using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using Dapper;

namespace AuditAgent.Tests.Storage;

/// <summary>Migrations as operators meet them: agents starting together, and an older binary on a newer database.</summary>
public sealed class MigrationTests
{
    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Migrate_SeveralAgentsStartingTogetherOnANewDatabase_AllSucceed(Backend backend)
    {
        await using var target = await DatabaseTarget.CreateAsync(backend);
        var databases = Enumerable.Range(0, 6).Select(_ => target.NewDatabase()).ToList();

        await Task.WhenAll(databases.Select(d => Task.Run(() => d.MigrateAsync(CancellationToken.None))));

        await using var c = await databases[0].OpenAsync(CancellationToken.None);
        Assert.Equal(0L, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM mailboxes"));
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Migrate_DatabaseFromANewerVersion_IsRefusedNamingBothVersions(Backend backend)
    {
        await using var target = await DatabaseTarget.CreateAsync(backend);
        var database = target.NewDatabase();
        await database.MigrateAsync(CancellationToken.None);
        var future = backend == Backend.Sqlite ? "AuditAgent.Storage.Migrations.0099_future.sql" : "AuditAgent.Storage.Migrations.PostgreSql.0099_future.sql";
        await using (var c = await database.OpenAsync(CancellationToken.None))
        {
            await c.ExecuteAsync($"INSERT INTO {(backend == Backend.Sqlite ? "SchemaVersions" : "schemaversions")} (scriptname, applied) VALUES (@future, @now)", new { future, now = DateTime.UtcNow });
        }

        var error = await Assert.ThrowsAsync<DatabaseTooNewException>(() => target.NewDatabase().MigrateAsync(CancellationToken.None));

        Assert.Contains("its schema has migration 0099_future", error.Message, StringComparison.Ordinal);
        Assert.Contains(backend == Backend.Sqlite ? "knows up to migration 0020_detection_context" : "knows up to migration 0017_detection_context", error.Message, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task Migrate_NewDatabase_IsRecordedAsProtected_SoTheKeyRingStepHasNothingToDo(Backend backend)
    {
        await using var target = await DatabaseTarget.CreateAsync(backend);
        var database = target.NewDatabase();

        await database.MigrateAsync(CancellationToken.None);

        await using var c = await database.OpenAsync(CancellationToken.None);
        Assert.Equal("1", await c.ExecuteScalarAsync<string>("SELECT value FROM meta WHERE key = 'recipients_protected'"));
    }

    [SkippableFact]
    public async Task BothMigrationSets_CreateTheSameTablesAndColumns()
    {
        await using var sqlite = await DatabaseTarget.CreateAsync(Backend.Sqlite);
        await using var postgres = await DatabaseTarget.CreateAsync(Backend.PostgreSql);
        var lite = sqlite.NewDatabase();
        var pg = postgres.NewDatabase();
        await lite.MigrateAsync(CancellationToken.None);
        await pg.MigrateAsync(CancellationToken.None);

        await using var l = await lite.OpenAsync(CancellationToken.None);
        var liteColumns = (await l.QueryAsync<string>("""
            SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
            WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'SchemaVersions'
            """)).Select(c => c.ToLowerInvariant()).Order(StringComparer.Ordinal).ToList();
        await using var p = await pg.OpenAsync(CancellationToken.None);
        var pgColumns = (await p.QueryAsync<string>("""
            SELECT table_name || '.' || column_name FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name NOT LIKE 'qrtz%' AND table_name <> 'schemaversions'
            """)).Select(c => c.ToLowerInvariant()).Order(StringComparer.Ordinal).ToList();

        Assert.NotEmpty(liteColumns);
        Assert.Equal([], liteColumns.Except(pgColumns).ToList());
        Assert.Equal([], pgColumns.Except(liteColumns).ToList());
    }

    [Fact]
    public async Task Commands_OnADatabaseFromANewerVersion_SayWhichVersionsAndExit1()
    {
        await using var target = await DatabaseTarget.CreateAsync(Backend.Sqlite);
        var database = target.NewDatabase();
        await database.MigrateAsync(CancellationToken.None);
        await using (var c = await database.OpenAsync(CancellationToken.None))
        {
            await c.ExecuteAsync("INSERT INTO SchemaVersions (scriptname, applied) VALUES ('AuditAgent.Storage.Migrations.0099_future.sql', '2027-01-01')");
            await c.ExecuteAsync("ALTER TABLE findings RENAME COLUMN subject TO title");
        }

        var list = await Commands.RunAsync("findings", "list", "--db", target.SqlitePath);
        var doctor = await Commands.RunAsync("doctor", "--db", target.SqlitePath);

        Assert.Equal(1, list.ExitCode);
        Assert.Contains("written by a newer AuditAgent", list.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("no such column", list.Error, StringComparison.Ordinal);
        Assert.Contains("written by a newer AuditAgent", doctor.Output, StringComparison.Ordinal);
        Assert.NotEqual(0, doctor.ExitCode);
    }

    [Fact]
    public async Task Doctor_OnACorruptedSqliteFile_FailsTheDatabaseCheck()
    {
        await using var target = await DatabaseTarget.CreateAsync(Backend.Sqlite);
        var database = target.NewDatabase();
        await database.MigrateAsync(CancellationToken.None);
        await using (var c = await database.OpenAsync(CancellationToken.None))
        {
            // Enough rows for the mailboxes table to span several pages, then checkpointed into the file.
            for (var i = 0; i < 200; i++)
            {
                await c.ExecuteAsync("INSERT INTO mailboxes (id, address, first_seen_at) VALUES (@id, @id, '2026-01-01')", new { id = $"m{i:000}-" + new string('x', 200) });
            }

            await c.ExecuteAsync("PRAGMA wal_checkpoint(TRUNCATE)");
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var pages = new FileInfo(target.SqlitePath).Length / 4096;
        await using (var file = new FileStream(target.SqlitePath, FileMode.Open, FileAccess.Write))
        {
            // Garbage over the last pages (the header and schema on page 1 stay intact).
            file.Seek(4096 * (pages - 4), SeekOrigin.Begin);
            await file.WriteAsync(Enumerable.Repeat((byte)0xA5, 4096 * 3).ToArray());
        }

        var doctor = await Commands.RunAsync("doctor", "--db", target.SqlitePath);

        Assert.NotEqual(0, doctor.ExitCode);
        Assert.Contains("corrupt", doctor.Output, StringComparison.OrdinalIgnoreCase);
    }
}
