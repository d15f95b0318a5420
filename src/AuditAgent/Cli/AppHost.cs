using AuditAgent.Hosting;
using AuditAgent.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace AuditAgent.Cli;

/// <summary>Builds the services a command needs from layered configuration.</summary>
internal static class AppHost
{
    /// <summary>
    /// Configuration, later layers winning: appsettings.json in the working directory, AUDITAGENT__*
    /// environment variables, the --config file, then the command's own overrides. The demo passes
    /// <paramref name="embeddedOnly"/> so that a production appsettings.json never redirects it.
    /// </summary>
    public static IHost Build(string? configFile, IReadOnlyDictionary<string, string?>? overrides, LogLevel logLevel, bool embeddedOnly = false, Action<IServiceCollection, IConfiguration>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ContentRootPath = Directory.GetCurrentDirectory(),
        });
        Configure(builder, configFile, overrides, logLevel, embeddedOnly, services);
        var host = builder.Build();
        // A command that never starts the host (scan, digest) still exports what it measured: the providers exist
        // from here and flush when the host is disposed.
        _ = host.Services.GetService<OpenTelemetry.Metrics.MeterProvider>();
        _ = host.Services.GetService<OpenTelemetry.Trace.TracerProvider>();
        return host;
    }

    /// <summary>
    /// The same services and configuration as <see cref="Build"/>, in a web host that also serves the
    /// console on Web:Urls (the `run`, `web` and `demo --serve` commands).
    /// </summary>
    public static WebApplication BuildWeb(string? configFile, IReadOnlyDictionary<string, string?>? overrides, LogLevel logLevel, bool embeddedOnly = false, Action<IServiceCollection, IConfiguration>? services = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ContentRootPath = Directory.GetCurrentDirectory(),
            ApplicationName = typeof(AppHost).Assembly.GetName().Name,
        });
        builder.WebHost.UseKestrel(k => k.AddServerHeader = false);
        Configure(builder, configFile, overrides, logLevel, embeddedOnly, (s, configuration) =>
        {
            s.AddConsole(configuration);
            s.AddHostedService<SystemdWatchdog>();
            services?.Invoke(s, configuration);
        });
        builder.WebHost.UseUrls((builder.Configuration[$"{WebOptions.Section}:{nameof(WebOptions.Urls)}"] is { Length: > 0 } urls ? urls : new WebOptions().Urls)
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        var app = builder.Build();
        app.UseConsole();
        return app;
    }

    /// <summary>
    /// What `run` and `web` do with their host: check every setting before anything starts, bring the database
    /// up to date, warn when others can read it, then serve until SIGTERM or Ctrl+C, saying where.
    /// </summary>
    public static async Task ServeAsync(WebApplication app, Terminal terminal, Func<Task>? beforeStart, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Services.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate();
        await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(ct);
        await CommandLine.WarnIfReadableByOthersAsync(terminal, app.Services.GetRequiredService<Storage.Database>());
        if (beforeStart is not null)
        {
            await beforeStart();
        }

        await app.StartAsync(ct);
        await ConsoleStart.AnnounceAsync(app, terminal);
        await app.WaitForShutdownAsync(ct);
    }

    private static void Configure(IHostApplicationBuilder builder, string? configFile, IReadOnlyDictionary<string, string?>? overrides, LogLevel logLevel, bool embeddedOnly, Action<IServiceCollection, IConfiguration>? services)
    {
        if (!embeddedOnly)
        {
            AddJsonFile(builder.Configuration, Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true);
            builder.Configuration.AddEnvironmentVariables("AUDITAGENT__");
            if (configFile is not null)
            {
                var full = Path.GetFullPath(configFile);
                if (!File.Exists(full))
                {
                    throw new CliException($"The configuration file '{full}' does not exist.");
                }

                AddJsonFile(builder.Configuration, full, optional: false);
            }
        }

        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        // Under systemd (Type=notify) or as a Windows service the host says when it is ready and stopping; elsewhere
        // both are no-ops. Registered before the logging so that Logging:Format, not their formatter, decides.
        builder.Services.AddSystemd();
        builder.Services.AddWindowsService(o => o.ServiceName = "AuditAgent");
        ConfigureLogging(builder, logLevel);
        builder.Services.AddAuditAgent(builder.Configuration);
        services?.Invoke(builder.Services, builder.Configuration);
    }

    /// <summary>
    /// Logs go to stderr, so that stdout carries only results (tables, JSON, CSV): one line each, `simple` (the
    /// default) or `json` (Logging:Format; the built-in JSON formatter, UTC timestamps with their date, the EventId
    /// of each message in docs/operations.md). The command's level applies unless the Logging section sets one
    /// (Logging:LogLevel:Default, or per category as in any .NET service).
    /// </summary>
    private static void ConfigureLogging(IHostApplicationBuilder builder, LogLevel logLevel)
    {
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(logLevel);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        var section = builder.Configuration.GetSection("Logging");
        builder.Logging.AddConfiguration(section);
        switch (section["Format"]?.Trim().ToLowerInvariant())
        {
            case null or "" or "simple":
                builder.Logging.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "HH:mm:ss ";
                    o.ColorBehavior = LoggerColorBehavior.Disabled;
                });
                break;
            case "json":
                builder.Logging.AddJsonConsole(o =>
                {
                    o.UseUtcTimestamp = true;
                    o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                    o.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
                });
                break;
            default:
                throw new CliException($"Logging:Format is '{section["Format"]}'; use simple or json.");
        }

        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    }

    /// <summary>A JSON file of settings; a syntax error names the file, the line and the position.</summary>
    private static void AddJsonFile(IConfigurationBuilder configuration, string path, bool optional)
    {
        try
        {
            configuration.AddJsonFile(path, optional);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException)
        {
            // Failed to load -> Could not parse -> the reader's error, which knows where.
            var inner = ex;
            while (inner.InnerException is not null && inner is not System.Text.Json.JsonException)
            {
                inner = inner.InnerException;
            }

            if (inner is System.Text.Json.JsonException { LineNumber: { } line } json)
            {
                var reason = json.Message.Split(" LineNumber:", 2)[0].Split(" Path:", 2)[0];
                throw new CliException($"The configuration file '{path}' is not valid JSON at line {line + 1}, position {json.BytePositionInLine + 1}: {reason}");
            }

            throw new CliException($"The configuration file '{path}' cannot be read: {inner.Message}");
        }
    }
}
