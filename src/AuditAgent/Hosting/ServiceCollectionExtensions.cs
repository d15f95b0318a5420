using AuditAgent.Configuration;
using AuditAgent.Graph;
using AuditAgent.Incidents;
using AuditAgent.Notifications;
using AuditAgent.Scanning;
using AuditAgent.Storage;
using AuditAgent.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

using AuditAgent.Web;

namespace AuditAgent.Hosting;

/// <summary>A configuration section the agent reads, as registered: what `doctor` checks, without a list kept by hand.</summary>
public sealed record OptionsSection(Type OptionsType, string Name);

public static class ServiceCollectionExtensions
{
    /// <summary>Everything the CLI commands and the worker share: options, Graph, storage, scanning.</summary>
    public static IServiceCollection AddAuditAgent(this IServiceCollection services, IConfiguration configuration)
    {
        // Each section: ranges by its source-generated [OptionsValidator], rules across keys by a hand-written one.
        services.AddValidatedOptions<GraphOptions, GraphOptionsValidator>(configuration, GraphOptions.Section)
            .AddSingleton<IValidateOptions<GraphOptions>, GraphCredentialValidator>();
        services.AddValidatedOptions<ScanOptions, ScanOptionsValidator>(configuration, ScanOptions.Section);
        services.AddValidatedOptions<DetectionOptions, DetectionOptionsValidator>(configuration, DetectionOptions.Section)
            .AddSingleton<IValidateOptions<DetectionOptions>, SensitivityValidator>();
        services.AddValidatedOptions<StorageOptions, StorageOptionsValidator>(configuration, StorageOptions.Section)
            .AddSingleton<IValidateOptions<StorageOptions>, StorageProviderValidator>();
        services.AddValidatedOptions<IncidentOptions, IncidentOptionsValidator>(configuration, IncidentOptions.Section)
            .AddSingleton<IValidateOptions<IncidentOptions>, IncidentRulesValidator>();
        services.AddValidatedOptions<ScheduleOptions, ScheduleOptionsValidator>(configuration, ScheduleOptions.Section);
        services.AddValidatedOptions<RetentionOptions, RetentionOptionsValidator>(configuration, RetentionOptions.Section);
        services.AddValidatedOptions<ClusterOptions, ClusterOptionsValidator>(configuration, ClusterOptions.Section);
        services.AddValidatedOptions<Events.EventsOptions, Events.EventsOptionsValidator>(configuration, Events.EventsOptions.Section)
            .AddSingleton<IValidateOptions<Events.EventsOptions>, Events.EventSinksValidator>();
        services.AddValidatedOptions<Breach.BreachOptions>(configuration, Breach.BreachOptions.Section);
        services.AddValidatedOptions<TelemetryOptions, TelemetryOptionsValidator>(configuration, TelemetryOptions.Section)
            .AddSingleton<IValidateOptions<TelemetryOptions>, TelemetryEndpointValidator>();
        services.AddValidatedOptions<Protection.ProtectionOptions, Protection.ProtectionOptionsValidator>(configuration, Protection.ProtectionOptions.Section);
        // Checked when used (digest, run): scanning needs no mail settings.
        services.AddOptions<NotificationOptions>().Bind(configuration.GetSection(NotificationOptions.Section))
            .PostConfigure(o => ConfigurationShape.ApplyListValues(o, configuration.GetSection(NotificationOptions.Section)));
        services.AddSingleton<IValidateOptions<NotificationOptions>, NotificationOptionsValidator>();
        services.AddSingleton<IValidateOptions<NotificationOptions>, NotificationTransportValidator>();
        services.AddSingleton<IValidateOptions<NotificationOptions>>(new ConfigurationShapeValidator<NotificationOptions>(configuration, NotificationOptions.Section));
        services.AddSingleton(new OptionsSection(typeof(NotificationOptions), NotificationOptions.Section));
        services.AddOptions<ApologyOptions>().Bind(configuration.GetSection(ApologyOptions.Section));
        services.AddSingleton<IValidateOptions<ApologyOptions>, ApologyOptionsValidator>();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => Formatting.DisplayTime.In(sp.GetRequiredService<IOptions<ScheduleOptions>>().Value.Zone));
        // Links to the console in mail, exports and `status`; Web:PublicUrl is checked with the Web section.
        services.AddSingleton(new Formatting.ConsoleLinks(configuration["Web:PublicUrl"]));
        services.AddConsoleKeys(); // Data Protection over the database: the console's cookies and the mail answer links
        services.AddSingleton<Notifications.AnswerLinks>();
        services.AddSingleton<Notifications.SenderQuestions>();
        services.AddSingleton<Notifications.AnswerAlerts>();
        services.AddSingleton<GraphClock>();
        services.AddAuditAgentTelemetry(configuration);
        services.AddSingleton(sp => GraphClientFactory.Create(sp.GetRequiredService<IOptions<GraphOptions>>().Value, sp.GetRequiredService<GraphClock>(), sp.GetRequiredService<Telemetry.AgentMetrics>()));
        services.AddSingleton<GraphDirectory>();
        services.AddSingleton<Database>();
        services.AddSingleton<Protection.KeyRingSource>();
        services.AddSingleton<Protection.RecipientProtector>();
        services.AddSingleton<Protection.RecipientUpgrade>();
        services.AddSingleton<TimelineChainUpgrade>();
        services.AddSingleton<DatabaseMigrator>();
        services.AddSingleton(AgentInstance.Current);
        services.AddSingleton<ScanStore>();
        services.AddSingleton<ClusterStore>();
        services.AddSingleton<StatusQueries>();
        services.AddSingleton<FindingQueries>();
        services.AddSingleton<ScanService>();
        services.AddSingleton<ScanPipeline>();
        services.AddSingleton<EventStore>();
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<Events.EventFeed>();
        services.AddSingleton<SinkStore>();
        services.AddSingleton<Events.SinkCatalog>();
        services.AddSingleton<Events.EventPusher>();
        services.AddHttpClient(nameof(Events.EventPusher), c => c.Timeout = TimeSpan.FromSeconds(10));
        services.AddSingleton<IncidentStore>();
        services.AddSingleton<IncidentQueries>();
        services.AddSingleton<ConsoleQueries>();
        services.AddSingleton<RegisterQueries>();
        services.AddSingleton<BacktestQueries>();
        services.AddSingleton<Backtest.BacktestReport>();
        services.AddSingleton<Breach.Notices>();
        services.AddSingleton<Breach.EvidenceSeal>();
        services.AddSingleton<IncidentService>();
        services.AddSingleton<ReplyWatch>();
        services.AddSingleton<AllowlistPolicy>();
        services.AddSingleton<IncidentActions>();
        services.AddSingleton<OperationsStore>();
        services.AddSingleton<JobRunner>();
        services.AddSingleton<OutboxStore>();
        services.AddSingleton<OutboxService>();
        services.AddSingleton<EmailRenderer>();
        // Read without the Notifications section's validation (which loads them too, and names every problem): the console uses them without mail.
        services.AddSingleton(_ => MailTemplates.Load(
            configuration[$"{NotificationOptions.Section}:{nameof(NotificationOptions.TemplatesFolder)}"], configuration[$"{NotificationOptions.Section}:{nameof(NotificationOptions.Language)}"]));
        services.AddSingleton<DigestQueries>();
        services.AddSingleton<DigestComposer>();
        services.AddSingleton<DigestService>();
        services.AddSingleton<EscalationQueries>();
        services.AddSingleton<EscalationService>();
        services.AddSingleton<GraphMail>();
        services.AddSingleton<ApologyPace>();
        services.AddSingleton<ApologySender>();
        services.AddSingleton<IMailTransport>(sp => sp.GetRequiredService<IOptions<NotificationOptions>>().Value.Transport switch
        {
            MailTransportKind.Graph => ActivatorUtilities.CreateInstance<GraphMailTransport>(sp),
            MailTransportKind.Smtp => ActivatorUtilities.CreateInstance<SmtpMailTransport>(sp),
            _ => new NoMailTransport(),
        });
        return services;
    }

    private static IServiceCollection AddValidatedOptions<TOptions, TValidator>(this IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions> =>
        services.AddValidatedOptions<TOptions>(configuration, section).AddSingleton<IValidateOptions<TOptions>, TValidator>();

    /// <summary>A section whose only rules are its shape: known keys, values of the right type.</summary>
    private static IServiceCollection AddValidatedOptions<TOptions>(this IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
    {
        services.AddOptions<TOptions>().Bind(configuration.GetSection(section))
            .PostConfigure(o => ConfigurationShape.ApplyListValues(o, configuration.GetSection(section)))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>>(new ConfigurationShapeValidator<TOptions>(configuration, section));
        return services.AddSingleton(new OptionsSection(typeof(TOptions), section));
    }
}
