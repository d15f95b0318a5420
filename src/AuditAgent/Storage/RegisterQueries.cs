using AuditAgent.Core.Incidents;
using Dapper;

namespace AuditAgent.Storage;

/// <summary>The breach register (GDPR Art. 33(5)): every incident that is not a false positive, with its latest decision.</summary>
public sealed class RegisterQueries(Database database)
{
    public async Task<IReadOnlyList<RegisterEntry>> ListAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<RegisterEntry>(database.Command(
            $"""
            SELECT i.id, i.severity, i.status, i.sender_address, i.first_sent_at, i.detected_at, {SqlFragments.Awareness("i.")} AS aware_at,
                   i.decided_at, i.closed_at, i.exposed_count, i.personal_count, i.domain_count, i.blast_messages, i.re_exposed,
                   i.sent_as, i.sensitive, i.reply_all_count,
                   a.risk, a.reasons, a.notify_authority, a.no_notify_rationale, a.tell_subjects, a.ground, a.ground_detail,
                   a.delay_reasons, a.notified_at, a.notification_reference, a.decided_by,
                   (SELECT COUNT(*) FROM breach_assessments x WHERE x.incident_id = i.id) AS decisions,
                   {SqlFragments.ExposedElsewhere("i.id")} AS exposed_elsewhere
            FROM incidents i
            LEFT JOIN breach_assessments a ON a.id = (SELECT MAX(b.id) FROM breach_assessments b WHERE b.incident_id = i.id)
            WHERE i.status <> '{IncidentStatus.FalsePositive.Name()}'
            ORDER BY i.detected_at, i.id
            """,
            ct: ct))).ToList();
    }
}

/// <summary>One incident in the breach register: its facts, dates and the decision on it (empty while none).</summary>
public sealed record RegisterEntry
{
    public long Id { get; init; }

    public string Severity { get; init; } = "";

    public string Status { get; init; } = "";

    public string SenderAddress { get; init; } = "";

    public DateTimeOffset FirstSentAt { get; init; }

    public DateTimeOffset DetectedAt { get; init; }

    public DateTimeOffset AwareAt { get; init; }

    public DateTimeOffset? DecidedAt { get; init; }

    public DateTimeOffset? ClosedAt { get; init; }

    public int ExposedCount { get; init; }

    public int PersonalCount { get; init; }

    public int DomainCount { get; init; }

    public int BlastMessages { get; init; }

    public bool ReExposed { get; init; }

    /// <summary>The address it went out as when that was not the person (a shared mailbox).</summary>
    public string? SentAs { get; init; }

    /// <summary>Why the list is sensitive ("category&lt;TAB&gt;reason" per line), or null.</summary>
    public string? Sensitive { get; init; }

    /// <summary>Special (Art. 9) and other sensitive categories the list suggests, by key ("health; children").</summary>
    public string SensitiveCategories => string.Join("; ", Core.Detection.SensitiveMatch.ParseStored(Sensitive).Select(m => Core.Detection.SensitiveCategories.Key(m.Category)));

    public int ReplyAllCount { get; init; }

    public string? Risk { get; init; }

    public string? Reasons { get; init; }

    public bool? NotifyAuthority { get; init; }

    public string? NoNotifyRationale { get; init; }

    public string? TellSubjects { get; init; }

    public string? Ground { get; init; }

    public string? GroundDetail { get; init; }

    public string? DelayReasons { get; init; }

    public DateTimeOffset? NotifiedAt { get; init; }

    public string? NotificationReference { get; init; }

    public string? DecidedBy { get; init; }

    public int Decisions { get; init; }

    /// <summary>How many of its people were exposed in another incident too (by keyed address).</summary>
    public int ExposedElsewhere { get; init; }

    public DateTimeOffset NotificationDueAt => Core.Incidents.NotificationClock.DueAt(AwareAt);

    /// <summary>Decided after the 72 hours, or still undecided past them.</summary>
    public bool Late(DateTimeOffset now) => (DecidedAt ?? now) > NotificationDueAt;
}
