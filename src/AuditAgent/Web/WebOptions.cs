using AuditAgent.Configuration;
using Microsoft.Extensions.Options;

namespace AuditAgent.Web;

/// <summary>Section "Web": the triage console, its sign-in and its health endpoints.</summary>
public sealed class WebOptions
{
    public const string Section = "Web";

    /// <summary>Where the console listens: any ASP.NET Core URL list, separated by ';'.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:5080";

    /// <summary>The address people use (behind a proxy, say): links in mail, exports and `status` are built on it.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>The OpenID Connect authority; Entra ID's v2.0 endpoint for Graph:TenantId in Graph:Cloud when empty.</summary>
    public string? Authority { get; set; }

    /// <summary>The app registration people sign in to; Graph:ClientId when empty.</summary>
    public string? ClientId { get; set; }

    /// <summary>Its client secret (to redeem sign-in codes); Graph:ClientSecret or Graph:ClientSecretFile when empty.</summary>
    public string? ClientSecret { get; set; }

    public string? ClientSecretFile { get; set; }

    /// <summary>`/readyz` fails when the last successful scan is older than this.</summary>
    [Within(5, 10080)]
    public int ReadyMaxScanAgeMinutes { get; set; } = 120;

    /// <summary>`/readyz` fails when a job has been failing (its runs since its last success) for longer than this.</summary>
    [Within(1, 10080)]
    public int ReadyMaxJobFailingMinutes { get; set; } = 60;

    /// <summary>
    /// Answers from escalation mails (one-click links) act only after the person signs in with Entra ID as
    /// the addressed recipient; without it the signed, single-use link is the proof (no console role is needed either way).
    /// </summary>
    public bool RequireSignInForMailActions { get; set; }

    /// <summary>Incidents per page of the list.</summary>
    [Within(10, 500)]
    public int PageSize { get; set; } = 50;
}

[OptionsValidator]
internal sealed partial class WebOptionsValidator : IValidateOptions<WebOptions>;

/// <summary>The URLs must be URLs: a typo would otherwise surface as a console nobody can reach.</summary>
internal sealed class WebUrlsValidator : IValidateOptions<WebOptions>
{
    public ValidateOptionsResult Validate(string? name, WebOptions o)
    {
        const string S = WebOptions.Section;
        var errors = new List<string>();
        foreach (var url in (o.Urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url.Replace("*", "0.0.0.0", StringComparison.Ordinal).Replace("+", "0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                errors.Add($"{S}:Urls: '{url}' is not an http or https URL (e.g. http://127.0.0.1:5080).");
            }
        }

        if (o.PublicUrl is { Length: > 0 } pub && (!Uri.TryCreate(pub, UriKind.Absolute, out var p) || p.Scheme is not ("http" or "https")))
        {
            errors.Add($"{S}:PublicUrl: '{pub}' is not an http or https URL (e.g. https://auditagent.contoso.com).");
        }

        if (o.Authority is { Length: > 0 } authority && !OptionsValidation.IsHttpsOrLoopback(authority))
        {
            errors.Add($"{S}:Authority: '{authority}' must be an https URL (plain http only for localhost), e.g. https://login.microsoftonline.com/{{tenant}}/v2.0.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
