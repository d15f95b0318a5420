using AuditAgent.Events.Sinks;
using AuditAgent.Graph;
using Azure.Core;
using Microsoft.Extensions.Options;

namespace AuditAgent.Events;

/// <summary>The sinks Events:Sinks configures, built once (a ServiceNow sink keeps its OAuth token between passes).</summary>
public sealed class SinkCatalog(IOptions<EventsOptions> options, IOptions<GraphOptions> graph, IHttpClientFactory http, TimeProvider time)
{
    private readonly Lazy<IReadOnlyList<IEventSink>> _sinks = new(() => Build(options.Value.Sinks, graph, http, time));

    public IReadOnlyList<IEventSink> Sinks => _sinks.Value;

    public IEventSink? Find(string name) => Sinks.FirstOrDefault(s => s.Options.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    private static List<IEventSink> Build(SinksOptions o, IOptions<GraphOptions> graph, IHttpClientFactory http, TimeProvider time)
    {
        HttpClient Client() => http.CreateClient(nameof(EventPusher));
        TokenCredential? credential = null;
        TokenCredential Credential() => credential ??= CredentialFactory.Create(graph.Value);
        return
        [
            .. o.Webhooks.Select(s => (IEventSink)new WebhookSink(s, Client(), time)),
            .. o.Teams.Select(s => (IEventSink)new TeamsSink(s, Client())),
            .. o.Syslog.Select(s => (IEventSink)new SyslogSink(s, time)),
            .. o.Sentinel.Select(s => (IEventSink)new SentinelSink(s, Client(), string.IsNullOrEmpty(s.AccessToken) ? Credential() : null)),
            .. o.ServiceNow.Select(s => (IEventSink)new ServiceNowSink(s, Client(), time)),
        ];
    }
}
