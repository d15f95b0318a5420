namespace AuditAgent.Core.Incidents;

/// <summary>
/// Who acts on an incident, as the timeline names them, and (from a page or a link) the version of the
/// incident they looked at: the newest timeline entry they saw. An action on an incident that changed since
/// is refused, so two people acting at once never overwrite each other unseen.
/// </summary>
public sealed record Actor(string Name, long? SeenVersion = null)
{
    public override string ToString() => Name;
}
