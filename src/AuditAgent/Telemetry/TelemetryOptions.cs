using AuditAgent.Configuration;
using Microsoft.Extensions.Options;

namespace AuditAgent.Telemetry;

/// <summary>
/// Section "Telemetry": where metrics and traces go. Nothing is exported unless one of these is set; the
/// standard OTEL_EXPORTER_OTLP_* and APPLICATIONINSIGHTS_CONNECTION_STRING variables work as well.
/// </summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>An OpenTelemetry collector (OTLP), e.g. http://otel-collector:4317.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>grpc (port 4317) or http/protobuf (port 4318).</summary>
    public string OtlpProtocol { get; set; } = "grpc";

    /// <summary>Serve the metrics for Prometheus to scrape at /metrics on the console (Web:Urls).</summary>
    public bool Prometheus { get; set; }

    /// <summary>Application Insights' connection string, to export to Azure Monitor.</summary>
    public string? AzureMonitorConnectionString { get; set; }

    /// <summary>Export traces too (a span per scan cycle, mailbox, Graph call, incident pass, mail and job).</summary>
    public bool Traces { get; set; } = true;

    /// <summary>How often the backlog gauges (outbox, event sinks, failing mailboxes, last scan) read the database.</summary>
    [Within(5, 3600)]
    public int SampleSeconds { get; set; } = 30;

    internal bool Otlp => OtlpEndpoint is { Length: > 0 } || Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") is { Length: > 0 };

    internal bool AzureMonitor => AzureMonitorConnectionString is { Length: > 0 } || Environment.GetEnvironmentVariable("APPLICATIONINSIGHTS_CONNECTION_STRING") is { Length: > 0 };

    /// <summary>Some exporter is configured: the backlog gauges are then sampled.</summary>
    internal bool Exports => Otlp || AzureMonitor || Prometheus;
}

[OptionsValidator]
internal sealed partial class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>;

/// <summary>An endpoint that is not a URL, or a protocol the exporter does not speak, would export nothing and say nothing.</summary>
internal sealed class TelemetryEndpointValidator : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions o)
    {
        const string S = TelemetryOptions.Section;
        var errors = new List<string>();
        if (o.OtlpEndpoint is { Length: > 0 } endpoint && (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            errors.Add($"{S}:OtlpEndpoint: '{endpoint}' is not an http or https URL (e.g. http://otel-collector:4317).");
        }

        if (o.OtlpProtocol is not ("grpc" or "http/protobuf"))
        {
            errors.Add($"{S}:OtlpProtocol: '{o.OtlpProtocol}' is not grpc or http/protobuf.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
