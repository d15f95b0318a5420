namespace AuditAgent.Tests.Support;

/// <summary>
/// What a run left behind, in a form two runs can be compared by: every finding (mailbox, message, role,
/// severity, suppression) and every incident (sender, subject, people exposed, severity, status).
/// </summary>
public sealed record Outcome(List<string> Findings, List<string> Incidents, int Mails)
{
    public static async Task<Outcome> OfAsync(AgentHarness agent)
    {
        ArgumentNullException.ThrowIfNull(agent);
        // Copies of one message in several mailboxes: whichever is read first is called the blast, the
        // others copies, and a restart or another agent can change which one that is.
        var findings = (await agent.FindingsAsync())
            .Select(f => $"{f.MailboxId}/{f.GraphMessageId}/{(f.Role == "copy" ? "blast" : f.Role)}/{f.Severity}/{f.SuppressionReason}")
            .Order(StringComparer.Ordinal).ToList();
        var incidents = (await agent.IncidentsAsync())
            .Select(i => $"{i.SenderAddress}|{i.Subject}|{i.ExposedCount}|{i.Severity}|{i.Status}")
            .Order(StringComparer.Ordinal).ToList();
        return new Outcome(findings, incidents, agent.Simulator.Tenant.SentMail.Count);
    }

    /// <summary>Findings, incidents and mails in one and not the other, and count differences.</summary>
    public int DifferencesFrom(Outcome other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Diff(Findings, other.Findings) + Diff(Incidents, other.Incidents) + Math.Abs(Mails - other.Mails);
    }

    public string Describe(Outcome reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return $"findings {Findings.Count} (reference {reference.Findings.Count}), incidents {Incidents.Count} ({reference.Incidents.Count}), mails {Mails} ({reference.Mails}); "
            + "only in the reference: " + string.Join("; ", reference.Findings.Except(Findings).Concat(reference.Incidents.Except(Incidents)))
            + "; only here: " + string.Join("; ", Findings.Except(reference.Findings).Concat(Incidents.Except(reference.Incidents)));
    }

    private static int Diff(List<string> a, List<string> b) => a.Except(b).Count() + b.Except(a).Count() + Math.Abs(a.Count - b.Count);
}
