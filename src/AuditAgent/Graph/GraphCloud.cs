namespace AuditAgent.Graph;

public enum GraphCloud
{
    Global,
    UsGovernment,
    UsGovernmentDoD,
    China,
}

/// <summary>What changes together when the tenant lives in a national cloud.</summary>
public sealed record CloudEndpoints(Uri AuthorityHost, string GraphBaseUrl, string Scope)
{
    public static CloudEndpoints For(GraphCloud cloud) => cloud switch
    {
        GraphCloud.Global => new(new Uri("https://login.microsoftonline.com/"), "https://graph.microsoft.com/v1.0", "https://graph.microsoft.com/.default"),
        GraphCloud.UsGovernment => new(new Uri("https://login.microsoftonline.us/"), "https://graph.microsoft.us/v1.0", "https://graph.microsoft.us/.default"),
        GraphCloud.UsGovernmentDoD => new(new Uri("https://login.microsoftonline.us/"), "https://dod-graph.microsoft.us/v1.0", "https://dod-graph.microsoft.us/.default"),
        GraphCloud.China => new(new Uri("https://login.chinacloudapi.cn/"), "https://microsoftgraph.chinacloudapi.cn/v1.0", "https://microsoftgraph.chinacloudapi.cn/.default"),
        _ => throw new ArgumentOutOfRangeException(nameof(cloud), cloud, "Unknown cloud."),
    };
}
