using Microsoft.Playwright;

namespace AuditAgent.Tests.Support;

/// <summary>Screenshots for the README, taken by the tests that show the pages (into docs/ with AUDITAGENT_SCREENSHOTS=1, else thrown away).</summary>
public static class Shots
{
    public static async Task TakeAsync(IPage page, string name)
    {
        ArgumentNullException.ThrowIfNull(page);
        if (Environment.GetEnvironmentVariable("AUDITAGENT_SCREENSHOTS") == "1")
        {
            await page.ScreenshotAsync(new() { Path = RepoFiles.Path(Path.Combine("docs", name)), FullPage = true });
        }
    }

    /// <summary>One part of a page (a form, a table), for a page too long to show whole.</summary>
    public static async Task TakeAsync(ILocator part, string name)
    {
        ArgumentNullException.ThrowIfNull(part);
        if (Environment.GetEnvironmentVariable("AUDITAGENT_SCREENSHOTS") == "1")
        {
            await part.ScreenshotAsync(new() { Path = RepoFiles.Path(Path.Combine("docs", name)) });
        }
    }
}
