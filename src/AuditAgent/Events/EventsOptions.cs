namespace AuditAgent.Events;

/// <summary>Section "Events": what the event stream tells its consumers (docs/events.md).</summary>
public sealed class EventsOptions
{
    public const string Section = "Events";

    /// <summary>Add the incident's subject to each event. Off by default: a subject can name a person or a matter.</summary>
    public bool IncludeSubjects { get; set; }
}
