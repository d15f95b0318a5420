using AuditAgent.Storage;
using Dapper;
using Microsoft.Extensions.Logging;

namespace AuditAgent.Protection;

/// <summary>
/// The one data step of the migrations that needs the key ring: a database written before recipients
/// were protected kept addresses in plain text (finding_recipients, Bcc lists); they are sealed into
/// exposed_recipients and the Bcc lists replaced by keyed hashes, once, in one transaction, recorded
/// in meta as 'recipients_protected'. Databases with nothing to upgrade are recorded by the schema
/// script (0008 / PostgreSQL 0005), so this step never loads the ring for them.
/// </summary>
public sealed class RecipientUpgrade(Database database, RecipientProtector protector, ILogger<RecipientUpgrade> logger)
{
    private const string Recorded = "SELECT value FROM meta WHERE key = 'recipients_protected'";

    /// <summary>Runs the step unless it is recorded; the number of recipients and Bcc lists it protected.</summary>
    public async Task<(int Recipients, int BccLists)> RunAsync(CancellationToken ct)
    {
        await using (var probe = await database.OpenAsync(ct))
        {
            if (await probe.ExecuteScalarAsync<string?>(database.Command(Recorded, ct: ct)) is not null)
            {
                return (0, 0);
            }
        }

        var cipher = await protector.GetAsync(ct);
        await using var c = await database.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await database.LockAsync(c, tx, LockKeys.ProtectionUpgrade, ct);
        CommandDefinition Sql(string sql, object? parameters = null) => database.Command(sql, parameters, tx, ct);
        if (await c.ExecuteScalarAsync<string?>(Sql(Recorded)) is not null)
        {
            return (0, 0); // another agent did it while this one waited for the lock
        }

        var legacy = (await c.QueryAsync<(long FindingId, string MailboxId, string MessageId, string Address, string? Name, string Field)>(Sql(
            "SELECT r.finding_id, f.mailbox_id, f.graph_message_id, r.address, r.name, r.field FROM finding_recipients r JOIN findings f ON f.id = r.finding_id"))).ToList();
        await c.ExecuteAsync(Sql(
            """
            INSERT INTO exposed_recipients (finding_id, recipient_key, domain, field, sealed) VALUES (@FindingId, @Key, @Domain, @Field, @Sealed)
            ON CONFLICT (finding_id, recipient_key) DO NOTHING
            """,
            legacy.Select(r => new
            {
                r.FindingId, Key = cipher.KeyOf(r.Address), Domain = r.Address[(r.Address.LastIndexOf('@') + 1)..].ToLowerInvariant(), r.Field,
                Sealed = cipher.Seal(r.MailboxId, r.MessageId, r.Address, r.Name),
            })));
        await c.ExecuteAsync(Sql("DELETE FROM finding_recipients"));
        var bcc = (await c.QueryAsync<(long Id, string Recipients)>(Sql("SELECT id, recipients FROM bcc_messages WHERE recipients <> ''"))).ToList();
        await c.ExecuteAsync(Sql(
            "UPDATE bcc_messages SET recipients = @Recipients WHERE id = @Id",
            bcc.Select(b => new { b.Id, Recipients = string.Join('\n', b.Recipients.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(cipher.KeyOf)) })));
        await c.ExecuteAsync(Sql("INSERT INTO meta (key, value) VALUES ('recipients_protected', '1')"));
        await tx.CommitAsync(ct);
        logger.LogInformation("Sealed {Recipients} stored recipients and hashed {Bcc} Bcc lists written before recipients were protected", legacy.Count, bcc.Count);
        return (legacy.Count, bcc.Count);
    }
}
