namespace AuditAgent.Core.Incidents;

/// <summary>
/// What the drafted apology (apology.liquid) is written from: facts of the incident and of the organisation,
/// never a list of people. The draft goes to each person alone: <see cref="NamePlaceholder"/> stands for the
/// person it goes to.
/// </summary>
public sealed record ApologyFacts(
    DateTimeOffset SentAt,
    int ExposedCount,
    int PersonalCount,
    bool ReExposed,
    string Signer,
    string? Organisation,
    string? Contact,
    string? Offer,
    string? BulkMailPlatform)
{
    public const string NamePlaceholder = "{name}";

    /// <summary>How many other people each recipient's address was shown to.</summary>
    public int OthersCount => ExposedCount - 1;
}
