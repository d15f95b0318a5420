namespace AuditAgent.Breach;

/// <summary>Section "Breach": who the notices name as controller and contact point (GDPR Art. 33(3)(b)).</summary>
public sealed class BreachOptions
{
    public const string Section = "Breach";

    /// <summary>The controller's name in the notices (default: Notifications:Organisation).</summary>
    public string? Controller { get; set; }

    /// <summary>The data protection officer or other contact point: name, address, phone.</summary>
    public string? DpoName { get; set; }

    public string? DpoEmail { get; set; }

    public string? DpoPhone { get; set; }

    /// <summary>The supervisory authority the notification goes to (e.g. "Information Commissioner's Office").</summary>
    public string? Authority { get; set; }
}
