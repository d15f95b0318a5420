using AuditAgent.Simulator;
using AuditAgent.Storage;

namespace AuditAgent.Tests.Support;

/// <summary>Generated tenants for scan tests, and the keys their findings are compared by.</summary>
public static class Tenants
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    /// <summary>A seeded tenant with a known set of exposures (<see cref="GeneratedTenant.ExpectedFindings"/>).</summary>
    public static GeneratedTenant Tenant(int mailboxes = 60, int messages = 40, int seed = 7) =>
        TenantGenerator.Generate(new GeneratorSettings { Mailboxes = mailboxes, MessagesPerMailbox = messages, Seed = seed, Now = Now });

    public static HashSet<(string, string)> Keys(IEnumerable<FindingRow> rows) => rows.Select(r => (r.MailboxId, r.GraphMessageId)).ToHashSet();

    public static HashSet<(string, string)> Keys(IEnumerable<ExpectedExposure> exposures) => exposures.Select(e => (e.MailboxId, e.GraphMessageId)).ToHashSet();
}
