using AuditAgent.Storage;
using AuditAgent.Tests.Support;
using Dapper;

namespace AuditAgent.Tests.Storage;

/// <summary>The statements the scan runs once per row, as both databases take them.</summary>
public sealed class PreparedStatementTests
{
    [SkippableTheory]
    [MemberData(nameof(Backends.All), MemberType = typeof(Backends))]
    public async Task NamedParameters_AreBoundByTheirNames_InTheOrderGiven_WithNullsTimesAndANameUsedTwice(Backend backend)
    {
        await using var target = await DatabaseTarget.CreateAsync(backend);
        var database = target.NewDatabase();
        await database.MigrateAsync(CancellationToken.None);
        var seen = new DateTimeOffset(2026, 11, 30, 9, 15, 0, TimeSpan.FromHours(1));
        var ct = CancellationToken.None;

        await using (var c = await database.OpenAsync(ct))
        await using (var tx = await c.BeginTransactionAsync(ct))
        {
            await using (var insert = await PreparedStatement.PrepareAsync(c, tx,
                "INSERT INTO mailboxes (id, address, display_name, first_seen_at) VALUES (@Id, @Address, @Name, @Seen)",
                ["@Id", "@Address", "@Name", "@Seen"], ct))
            {
                await insert.RunAsync(ct, "m1", "ann@contoso.example", null, seen);
                await insert.RunAsync(ct, "m2", "bob@contoso.example", "Bob", seen);
                var wrong = await Assert.ThrowsAsync<ArgumentException>(() => insert.RunAsync(ct, "m3", "cat@contoso.example"));
                Assert.Contains("takes 4 values; 2 were given", wrong.Message, StringComparison.Ordinal);
            }

            await using (var rename = await PreparedStatement.PrepareAsync(c, tx,
                "UPDATE mailboxes SET display_name = @Name, address = @Name || '@contoso.example' WHERE id = @Id",
                ["@Name", "@Id"], ct))
            {
                await rename.RunAsync(ct, "bea", "m2");
            }

            // RETURNING gives the number for a new row, and nothing when the row was there already.
            await using (var once = await PreparedStatement.PrepareAsync(c, tx,
                "INSERT INTO mailboxes (id, address, first_seen_at) VALUES (@Id, @Address, @Seen) ON CONFLICT (id) DO NOTHING RETURNING 7",
                ["@Id", "@Address", "@Seen"], ct))
            {
                Assert.Equal(7L, await once.ReturningAsync(ct, "m4", "dan@contoso.example", seen));
                Assert.Null(await once.ReturningAsync(ct, "m4", "dan@contoso.example", seen));
            }

            await tx.CommitAsync(ct);
        }

        await using var read = await database.OpenAsync(ct);
        var rows = (await read.QueryAsync<(string Id, string Address, string? Name, string Seen)>(
            "SELECT id, address, display_name, first_seen_at FROM mailboxes ORDER BY id")).ToList();
        Assert.Equal(
            [
                ("m1", "ann@contoso.example", null, "2026-11-30T08:15:00.000Z"),
                ("m2", "bea@contoso.example", "bea", "2026-11-30T08:15:00.000Z"),
                ("m4", "dan@contoso.example", null, "2026-11-30T08:15:00.000Z"),
            ],
            rows);
    }
}
