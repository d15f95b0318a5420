namespace AuditAgent.Breach;

/// <summary>
/// What the notice to the people affected (subjects-notice.liquid, GDPR Art. 34(2)) is written from: plain facts,
/// the contact point and the measures taken; never the list. {name} stands for the person it goes to.
/// </summary>
public sealed record SubjectsNoticeFacts(
    DateTimeOffset SentAt,
    int OthersCount,
    bool ReExposed,
    string? Controller,
    string? DpoName,
    string? DpoEmail,
    string? DpoPhone,
    IReadOnlyList<string> MeasuresTaken,
    string Signer);
