using AuditAgent.Core.Incidents;
using AuditAgent.Formatting;
using AuditAgent.Notifications;
using AuditAgent.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace AuditAgent.Web.Pages;

/// <summary>
/// Where an answer link from an escalation mail lands. A GET never changes anything (mail gateways fetch
/// every link): it checks the link and shows the incident in words with one button. Only the POST of that
/// button records the answer, once per link. No console role is needed; with
/// Web:RequireSignInForMailActions the person signs in first and must be the one the mail was sent to.
/// </summary>
public sealed class AnswerModel(
    AnswerLinks links, IncidentStore store, global::AuditAgent.Incidents.IncidentActions actions, IncidentQueries queries, AnswerAlerts alerts,
    IOptions<WebOptions> web, DisplayTime display) : PageModel
{
    public const int MaxJustification = 500;

    [BindProperty(SupportsGet = true)]
    public long Id { get; set; }

    [BindProperty(SupportsGet = true)]
    public string Token { get; set; } = "";

    [BindProperty]
    public string? Channel { get; set; }

    [BindProperty]
    public string? Justification { get; set; }

    public AnswerToken? Link { get; private set; }

    /// <summary>Why nothing can be done with this link (a heading and a sentence), when so.</summary>
    public (string Title, string Text)? Refusal { get; private set; }

    /// <summary>What was recorded, after the POST.</summary>
    public string? Recorded { get; private set; }

    public string? InputProblem { get; private set; }

    public IncidentRow? Incident { get; private set; }

    public string When(DateTimeOffset t) => display.InWords(t);

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var gate = await CheckAsync(ct);
        return gate ?? Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (await CheckAsync(ct) is { } gate)
        {
            return gate;
        }

        if (Refusal is not null)
        {
            return Page();
        }

        var link = Link!;
        string? detail = null;
        if (link.Answer == MailAnswer.ApologySent)
        {
            if (!MailAnswers.TryParse(Channel, out ApologyChannel channel))
            {
                InputProblem = "Say how the apology went out.";
                return Page();
            }

            detail = channel.Words();
        }
        else if (link.Answer is MailAnswer.Authorised or MailAnswer.RecipientsAgreed)
        {
            detail = SafeText.Clean(Justification, MaxJustification);
            if (string.IsNullOrWhiteSpace(detail))
            {
                InputProblem = link.Answer == MailAnswer.Authorised
                    ? "Say who authorised it and why: the analyst reviewing the incident reads it."
                    : "Say how the recipients agreed: the analyst reviewing the incident reads it.";
                return Page();
            }
        }

        var result = await actions.AnswerFromMailAsync(Id, link.Answer, detail, link.Recipient, link.Nonce, ct);
        switch (result.Outcome)
        {
            case AnswerOutcome.AlreadyUsed:
                Refusal = Used(result);
                return Page();
            case AnswerOutcome.Closed:
                Refusal = ("This incident is closed", $"It is {result.Status} already, so nothing was recorded. If something is still wrong, write to the security team.");
                return Page();
        }

        if (link.Answer is MailAnswer.NeedHelp or MailAnswer.NotMe)
        {
            await alerts.SendAsync(Id, link.Answer, link.Recipient, link.Nonce, ct);
        }

        Recorded = link.Answer switch
        {
            MailAnswer.SpokeWithSender => "Thank you. Recorded: you have spoken with the sender, so the spread is stopped.",
            MailAnswer.ApologySent => $"Thank you. Recorded: the apology has gone out {detail}.",
            MailAnswer.NeedHelp => "Recorded. The security team has been told that you need help and will contact you.",
            MailAnswer.Authorised => "Recorded. An analyst will review the justification; the incident stays open until then.",
            MailAnswer.Mistake => "Thank you for saying so. Recorded: it was a mistake. Please do not write to the list again; the apology is handled for you.",
            MailAnswer.RecipientsAgreed => "Thank you. Recorded: an analyst will review what you wrote and decide.",
            _ => "Thank you. The security team has been told at once and will check your account; they may ask you to sign in again or change your password.",
        } + (result.Outcome == AnswerOutcome.RecordedStepAlreadyMarked ? $" (The step had already been marked by {result.StepMarkedBy}.)" : "");
        return Page();
    }

    /// <summary>The link's checks, in order; a result when the request must go elsewhere (sign-in), otherwise <see cref="Refusal"/> or <see cref="Link"/> and <see cref="Incident"/> are set.</summary>
    private async Task<IActionResult?> CheckAsync(CancellationToken ct)
    {
        var (token, problem) = links.Read(Id, Token);
        Refusal = problem switch
        {
            AnswerLinkProblem.Tampered => ("This link does not work", "It was changed, or it does not come from AuditAgent. Nothing was recorded. Use the link exactly as it is in the mail."),
            AnswerLinkProblem.Expired => ("This link has expired", $"It worked until {display.InWords(token!.ExpiresAt)}. Nothing was recorded. Write to the security team, or answer from a newer mail."),
            AnswerLinkProblem.WrongIncident => ("This link belongs to another incident", "Nothing was recorded. Use the link exactly as it is in the mail."),
            _ => null,
        };
        if (Refusal is not null)
        {
            return null;
        }

        if (web.Value.RequireSignInForMailActions)
        {
            if (User.Identity?.IsAuthenticated != true)
            {
                return Challenge(new AuthenticationProperties { RedirectUri = Request.Path }, OpenIdConnectDefaults.AuthenticationScheme);
            }

            var signedIn = User.FindFirst("preferred_username")?.Value;
            if (!string.Equals(signedIn, token!.Recipient, StringComparison.OrdinalIgnoreCase))
            {
                Refusal = ("This link was sent to someone else", $"You are signed in as {signedIn}; only the person the mail was addressed to can answer with it. Nothing was recorded.");
                return null;
            }
        }

        Link = token;
        Incident = (await queries.GetAsync(Id, ct))?.Incident;
        if (Incident is null)
        {
            Refusal = ("This incident no longer exists", "Nothing was recorded.");
            return null;
        }

        if (HttpMethods.IsGet(Request.Method) && await store.AnswerOfNonceAsync(token!.Nonce, ct) is { } earlier)
        {
            Refusal = Used(earlier);
        }

        return null;
    }

    private (string, string) Used(AnswerResult earlier) =>
        ("This link was used already", $"It recorded \"{(MailAnswers.TryParse(earlier.Answer, out MailAnswer a) ? a.Label() : earlier.Answer)}\" for {earlier.Recipient} on {display.InWords(earlier.At)}. Each link works once; nothing more was recorded.");
}
