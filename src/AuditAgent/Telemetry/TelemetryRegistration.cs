using AuditAgent.Storage;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AuditAgent.Telemetry;

/// <summary>
/// OpenTelemetry for every command: the agent's meter and spans, the runtime's and HttpClient's, exported to what the
/// Telemetry section names (OTLP, a Prometheus scrape endpoint on the console, Azure Monitor). With none set, nothing
/// leaves the process.
/// </summary>
public static class TelemetryRegistration
{
    public static IServiceCollection AddAuditAgentTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();

        services.AddMetrics();
        services.AddSingleton<AgentMetrics>();
        services.AddSingleton<BacklogSampler>();
        if (options.Exports)
        {
            services.AddHostedService(sp => sp.GetRequiredService<BacklogSampler>());
        }

        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("auditagent", serviceVersion: typeof(AgentMetrics).Assembly.GetName().Version?.ToString(), serviceInstanceId: AgentInstance.Current.Id))
            .WithMetrics(m =>
            {
                m.AddMeter(AgentMetrics.MeterName, "System.Net.Http", "System.Runtime");
                if (options.Otlp)
                {
                    m.AddOtlpExporter(o => Otlp(o, options, "v1/metrics"));
                }

                if (options.Prometheus)
                {
                    m.AddPrometheusExporter();
                }

                if (options.AzureMonitor)
                {
                    m.AddAzureMonitorMetricExporter(o => AzureMonitor(o, options));
                }
            })
            .WithTracing(t =>
            {
                // Redaction first: it runs before any exporter sees a span.
                t.AddSource(AgentTracing.SourceName).AddHttpClientInstrumentation().AddProcessor(new UrlRedaction());
                if (options.Traces && options.Otlp)
                {
                    t.AddOtlpExporter(o => Otlp(o, options, "v1/traces"));
                }

                if (options.Traces && options.AzureMonitor)
                {
                    t.AddAzureMonitorTraceExporter(o => AzureMonitor(o, options));
                }
            });
        return services;
    }

    /// <summary>
    /// With Telemetry:OtlpEndpoint, that collector; without it, the OTEL_EXPORTER_OTLP_* variables decide. Over
    /// http/protobuf the signal's path is added to the base address, as the variables' own handling does.
    /// </summary>
    private static void Otlp(OtlpExporterOptions o, TelemetryOptions options, string path)
    {
        if (options.OtlpEndpoint is not { Length: > 0 } endpoint)
        {
            return;
        }

        var http = options.OtlpProtocol == "http/protobuf";
        o.Protocol = http ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        o.Endpoint = http ? new Uri(endpoint.TrimEnd('/') + "/" + path) : new Uri(endpoint);
    }

    private static void AzureMonitor(AzureMonitorExporterOptions o, TelemetryOptions options)
    {
        if (options.AzureMonitorConnectionString is { Length: > 0 } connection)
        {
            o.ConnectionString = connection;
        }
    }
}
