namespace AuditAgent.Core.Detection;

/// <param name="VisibleExternalThreshold">Distinct external addresses in To and Cc that make a message a finding.</param>
public sealed record DetectionRules(int VisibleExternalThreshold = DetectionRules.DefaultThreshold)
{
    public const int DefaultThreshold = 10;
}
