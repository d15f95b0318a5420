using System.CommandLine;
using AuditAgent.Configuration;
using AuditAgent.Graph;
using AuditAgent.Hosting;
using AuditAgent.Notifications;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Cli;

/// <summary>What an administrator grants, why, and how to scope it to some mailboxes.</summary>
internal static class ConsentCommand
{
    public static Command Create(Terminal terminal)
    {
        var redirect = new Option<string>("--redirect-uri") { Description = "A redirect URI registered on the app; the browser lands there after consent.", DefaultValueFactory = _ => "https://localhost" };
        var command = new Command("consent", "Print the admin-consent URL, the permissions to grant and why, and the Exchange commands that scope the app.") { redirect };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            using var host = AppHost.Build(parse.GetValue(CommandLine.ConfigOption), null, ScanCommand.LogLevelFor(parse, terminal));
            // An admin runs this before any secret or mail setting exists: only the tenant and the app are
            // needed, so the sections are read as they are rather than validated as a whole.
            var configuration = host.Services.GetRequiredService<IConfiguration>();
            var graph = configuration.GetSection(GraphOptions.Section).Get<GraphOptions>() ?? new GraphOptions();
            var mail = configuration.GetSection(NotificationOptions.Section).Get<NotificationOptions>() ?? new NotificationOptions();
            var missing = new[] { (nameof(GraphOptions.TenantId), graph.TenantId), (nameof(GraphOptions.ClientId), graph.ClientId) }
                .Where(x => string.IsNullOrWhiteSpace(x.Item2)).Select(x => OptionsValidation.Missing(GraphOptions.Section, x.Item1)).ToList();
            if (missing.Count > 0)
            {
                throw new CliException(string.Join(" ", missing));
            }

            await terminal.Output.WriteAsync(Text(graph, mail, parse.GetValue(redirect)!));
            return ExitCodes.Ok;
        }));
        return command;
    }

    internal static string Text(GraphOptions graph, NotificationOptions mail, string redirectUri)
    {
        var tenant = graph.TenantId ?? "TENANT_ID";
        var app = graph.ClientId ?? "CLIENT_ID";
        var sendsThroughGraph = mail.Transport == MailTransportKind.Graph || mail.Apology.Mailbox is { Length: > 0 };
        var sender = mail.SenderMailbox ?? "<sender mailbox>";
        var w = new StringWriter();
        w.WriteLine($"AuditAgent, application {app}, tenant {tenant} ({graph.Cloud} cloud).");
        w.WriteLine();
        w.WriteLine("1. Grant these Microsoft Graph application permissions (API permissions > Add > Microsoft Graph > Application):");
        foreach (var p in Permissions.Required(sendsThroughGraph))
        {
            w.WriteLine($"   {p.Name,-20} to {p.Why}");
        }

        if (!sendsThroughGraph)
        {
            w.WriteLine($"   (Mail.Send is not needed: Notifications:Transport is {mail.Transport} and no Notifications:Apology:Mailbox is set.)");
        }

        w.WriteLine($"   Optional: {Permissions.MailboxSettingsRead.Name,-20} to {Permissions.MailboxSettingsRead.Why["optional: ".Length..]}");

        w.WriteLine();
        w.WriteLine("2. A Global or Privileged Role Administrator opens this URL and accepts (admin consent):");
        w.WriteLine($"   {Permissions.AdminConsentUrl(graph.Cloud, tenant, app, redirectUri)}");
        w.WriteLine($"   The redirect URI ({redirectUri}) must be registered on the app; the page it lands on does not matter.");
        w.WriteLine();
        w.WriteLine("3. Optional: let the app read only some mailboxes, with Exchange Online RBAC for Applications");
        w.WriteLine("   (Exchange Online PowerShell; the service principal's object id comes from `az ad sp show --id " + app + " --query id -o tsv`):");
        w.WriteLine("   Connect-ExchangeOnline");
        w.WriteLine($"   New-ServicePrincipal -AppId {app} -ObjectId <service principal object id> -DisplayName \"AuditAgent\"");
        w.WriteLine("   New-ManagementScope -Name \"AuditAgent scanned mailboxes\" -RecipientRestrictionFilter \"MemberOfGroup -eq '<distinguished name of a group of the mailboxes>'\"");
        w.WriteLine($"   New-ManagementRoleAssignment -App {app} -Role \"Application Mail.ReadBasic\" -CustomResourceScope \"AuditAgent scanned mailboxes\"");
        if (sendsThroughGraph)
        {
            var senders = string.Join(" -or ", new[] { mail.Transport == MailTransportKind.Graph ? sender : null, mail.Apology.Mailbox }.Where(m => m is { Length: > 0 }).Select(m => $"PrimarySmtpAddress -eq '{m}'"));
            w.WriteLine($"   New-ManagementScope -Name \"AuditAgent sender\" -RecipientRestrictionFilter \"{senders}\"");
            w.WriteLine($"   New-ManagementRoleAssignment -App {app} -Role \"Application Mail.Send\" -CustomResourceScope \"AuditAgent sender\"");
        }

        w.WriteLine($"   Test-ServicePrincipalAuthorization -Identity {app} -Resource <a mailbox>");
        w.WriteLine("   Then remove the tenant-wide Mail.ReadBasic.All" + (sendsThroughGraph ? " and Mail.Send" : "") + " grants from the app in Entra ID:");
        w.WriteLine("   a tenant-wide grant still opens every mailbox, whatever the Exchange scope says. Keep User.Read.All and Domain.Read.All.");
        w.WriteLine();
        w.WriteLine("4. Check the result: auditagent doctor");
        return w.ToString();
    }
}
