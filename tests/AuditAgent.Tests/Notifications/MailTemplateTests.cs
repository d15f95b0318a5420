using System.Globalization;
using AuditAgent.Core.Incidents;
using AuditAgent.Formatting;
using AuditAgent.Notifications;
using AuditAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Tests.Notifications;

/// <summary>The mail texts as Liquid templates: built in, replaced or translated from a folder, refused at start-up when broken.</summary>
public sealed class MailTemplateTests
{
    private static readonly DisplayTime Berlin = DisplayTime.In("Europe/Berlin");

    private static SenderQuestionModel Question(string subject = "Spring newsletter") => new(
        7, "Ann", subject, DateTimeOffset.Parse("2026-12-01T15:19:00Z", CultureInfo.InvariantCulture), 30, null, "sam@contoso.com",
        [new EscalationAnswer("mistake", "It was a mistake", "https://auditagent.contoso.com/answer/7/abc")]);

    [Fact]
    public void Draft_WherePrivateAddressesWereExposed_OffersSomething_AndMarksWhatAPersonMustFill()
    {
        var templates = MailTemplates.Load(null, null);
        var facts = new ApologyFacts(DateTimeOffset.Parse("2026-11-28T10:00:00Z", CultureInfo.InvariantCulture), 31, 7, true, "[YOUR NAME, ROLE]", null, null, null, "our newsletter tool");

        var (subject, body) = templates.RenderText(MailTemplates.Apology, null, facts, Berlin);
        var offered = templates.RenderText(MailTemplates.Apology, null, facts with { Offer = "a year of Contoso SpamShield", Contact = "privacy@contoso.com" }, Berlin).Text;

        Assert.Equal("We made a mistake with your email address", subject);
        Assert.StartsWith("Dear {name},\n\nOn 28 November 2026 we sent you", body, StringComparison.Ordinal);
        Assert.Contains("those of 30 other people", body, StringComparison.Ordinal);
        Assert.Contains("a later message did the same again", body, StringComparison.Ordinal);
        Assert.Contains("only in Bcc or through our newsletter tool", body, StringComparison.Ordinal);
        Assert.Contains("[WHAT WE OFFER", body, StringComparison.Ordinal);
        Assert.Contains("[CONTACT]", body, StringComparison.Ordinal);
        Assert.Contains("we would like to offer you a year of Contoso SpamShield.", offered, StringComparison.Ordinal);
        Assert.Contains("write to privacy@contoso.com.", offered, StringComparison.Ordinal);
    }

    [Fact]
    public void TextFromAMailbox_NeverBecomesMarkupOrALink_InEitherPart()
    {
        var templates = MailTemplates.Load(null, null);

        var mail = templates.Render(MailTemplates.SenderQuestion, null, Question("<script>alert(1)</script> [win](https://evil.example) **now** _x_"), Berlin);

        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; [win](https://evil.example) **now** _x_", mail.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"https://evil.example", mail.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("<strong>now</strong>", mail.Html, StringComparison.Ordinal);
        Assert.Contains("<script>alert(1)</script> [win](https://evil.example) **now** _x_", mail.Text, StringComparison.Ordinal); // text is text
        Assert.Contains("href=\"https://auditagent.contoso.com/answer/7/abc\"", mail.Html, StringComparison.Ordinal);
        Assert.Contains("It was a mistake: https://auditagent.contoso.com/answer/7/abc", mail.Text, StringComparison.Ordinal);
        Assert.Contains("On Tuesday 1 December 2026, 16:19 Europe/Berlin (UTC+1), the message", mail.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void AFolder_ReplacesAMail_AndAddsALanguage_ChosenByTheDirectorysPreferredLanguage()
    {
        using var folder = new TempFolder();
        File.WriteAllText(Path.Combine(folder.Path, "sender-question.liquid"), "Contoso asks: {{ message_subject }}\n\nHi {{ sender_name }}, what happened on {{ sent_at | in_words }}?\n");
        File.WriteAllText(Path.Combine(folder.Path, "sender-question.fr.liquid"), "Une question\n\nBonjour {{ sender_name }}, le {{ sent_at | in_words }} ?\n");
        var templates = MailTemplates.Load(folder.Path, "en");

        var english = templates.Render(MailTemplates.SenderQuestion, null, Question(), Berlin);
        var french = templates.Render(MailTemplates.SenderQuestion, "fr-FR", Question(), Berlin);
        var german = templates.Render(MailTemplates.SenderQuestion, "de-DE", Question(), Berlin);
        var dutch = templates.Render(MailTemplates.SenderQuestion, "nl-NL", Question(), Berlin);

        Assert.Equal("Contoso asks: Spring newsletter", english.Subject);
        Assert.Equal("Hi Ann, what happened on Tuesday 1 December 2026, 16:19 Europe/Berlin (UTC+1)?\n", english.Text);
        Assert.Equal("Bonjour Ann, le mardi 1 décembre 2026, 16:19 Europe/Berlin (UTC+1) ?\n", french.Text);
        Assert.Equal("Eine kurze Frage zu einer Nachricht, die Sie gesendet haben", german.Subject); // built in
        Assert.Contains("Am Dienstag, 1. Dezember 2026, 16:19 Europe/Berlin (UTC+1) ging die Nachricht", german.Text, StringComparison.Ordinal);
        Assert.Contains("<html lang=\"de\">", german.Html, StringComparison.Ordinal);
        Assert.Equal(english.Subject, dutch.Subject); // no Dutch template: the organisation's language
        Assert.Equal(["de", "en", "fr"], templates.Languages);
    }

    [Fact]
    public async Task AManagerWhoseDirectoryEntrySaysGerman_GetsTheEscalationInGerman_AndOneInCalifornia_GetsHerTimes()
    {
        var t = new TenantBuilder();
        var chefin = new AuditAgent.Simulator.SimUser("id-chefin") { DisplayName = "Chefin", Mail = "chefin@contoso.com", UserPrincipalName = "chefin@contoso.com", PreferredLanguage = "de-DE" };
        var mia = new AuditAgent.Simulator.SimUser("id-mia") { DisplayName = "Mia", Mail = "mia@contoso.com", UserPrincipalName = "mia@contoso.com", TimeZone = "Pacific Standard Time" };
        t.Tenant.AddUser(chefin);
        t.Tenant.AddUser(mia);
        t.Send(t.User("jonas", chefin.Id), "Elternbrief", TenantBuilder.Now.AddDays(-1), TenantBuilder.People(30, TenantBuilder.Companies));
        t.Send(t.User("ann", mia.Id), "Spring newsletter", TenantBuilder.Now.AddDays(-1), TenantBuilder.People(30, TenantBuilder.Companies));
        using var output = new TempFolder();
        var roles = new AuditAgent.Simulator.SimulatorOptions().Roles.Append("MailboxSettings.Read").ToList();
        await using var agent = await AgentHarness.StartAsync(t.Tenant, new AuditAgent.Simulator.SimulatorOptions { Roles = roles }, NotificationTests.Mail(new()
        {
            ["Notifications:Transport"] = "None",
            ["Notifications:OutputFolder"] = output.Path,
            ["Notifications:EscalateFromSeverity"] = "Medium",
        }));
        await agent.ScanAndProcessAsync();

        await agent.Services.GetRequiredService<EscalationService>().RunAsync(CancellationToken.None);

        var mails = Directory.GetFiles(output.Path, "*.eml").Select(f => MimeKit.MimeMessage.Load(f)).ToList();
        var german = Assert.Single(mails, m => m.To.Mailboxes.Single().Address == "chefin@contoso.com");
        var english = Assert.Single(mails, m => m.To.Mailboxes.Single().Address == "mia@contoso.com");
        Assert.StartsWith("Ein Datenschutzvorfall in Ihrem Team braucht Ihr Handeln: Vorfall #", german.Subject, StringComparison.Ordinal);
        Assert.Contains("Hallo Chefin,", german.TextBody, StringComparison.Ordinal);
        Assert.Matches(@"am (Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag), \d+\. \w+ \d{4}, \d\d:\d\d Europe/Berlin \(UTC\+\d\) hat Jonas \(jonas@contoso\.com\) die Nachricht „Elternbrief“", german.TextBody);
        Assert.Contains("<html lang=\"de\">", german.HtmlBody, StringComparison.Ordinal);
        Assert.StartsWith("A privacy incident on your team needs your action", english.Subject, StringComparison.Ordinal);
        Assert.Matches(@"On \w+ \d+ \w+ \d{4}, \d\d:\d\d America/Los_Angeles \(UTC-[78]\), Ann", english.TextBody); // her mailbox's zone, by its IANA name
        Assert.Contains("Europe/Berlin (UTC+1)", german.TextBody, StringComparison.Ordinal); // no zone in her mailbox settings: the display zone
    }

    [Fact]
    public void BrokenTemplates_AreRefusedNamingTheFileTheLineAndTheField()
    {
        using var folder = new TempFolder();
        File.WriteAllText(Path.Combine(folder.Path, "escalation.liquid"), "Subject {{ incident_id }}\n\nHello {{ manager_name }},\n{% for step in steps %}\n- {{ step.titel }}\n{% endfor %}\n");
        File.WriteAllText(Path.Combine(folder.Path, "reminder.de.liquid"), "Erinnerung\n\nHallo\n\n{% if reason == \"up\" %}\nnie geschlossen\n");
        File.WriteAllText(Path.Combine(folder.Path, "apology.liquid"), "Sorry\n\n{% if re_exposed %}{{ sent_at | in_wrods }}{% endif %}\n");
        File.WriteAllText(Path.Combine(folder.Path, "newsletter.liquid"), "x\n\ny\n");

        var refused = Assert.Throws<MailTemplateException>(() => MailTemplates.Load(folder.Path, "en"));

        var problems = refused.Problems.Select(p => p.Replace(folder.Path + Path.DirectorySeparatorChar, "", StringComparison.Ordinal)).ToList();
        Assert.Contains(problems, p => p.StartsWith("escalation.liquid, line 5: unknown field 'step.titel' (this mail knows:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("reminder.de.liquid, line ", StringComparison.Ordinal) && p.Contains("if", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("apology.liquid, line 3: unknown filter 'in_wrods'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("newsletter.liquid: not a mail template", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ABrokenTemplate_StopsTheAgentAtStartUp_NamingItsFileAndLine()
    {
        using var folder = new TempFolder();
        File.WriteAllText(Path.Combine(folder.Path, "escalation.liquid"), "Subject\n\nHello {{ manager_nam }}\n");
        var settings = NotificationTests.Mail(new() { ["Notifications:TemplatesFolder"] = folder.Path });
        var (tenant, _) = TenantBuilder.OneExposure();
        await using var agent = await AgentHarness.StartAsync(tenant, settings: settings);
        await agent.Services.GetRequiredService<AuditAgent.Hosting.DatabaseMigrator>().MigrateAsync(CancellationToken.None);

        var run = await AgentProcess.RunAsync(agent.Settings, folder.Path, "run");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains($"mail template {Path.Combine(folder.Path, "escalation.liquid")}, line 3: unknown field 'manager_nam'", run.Output + run.Error, StringComparison.Ordinal);
    }
}
