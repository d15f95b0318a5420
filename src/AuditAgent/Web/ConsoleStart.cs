using AuditAgent.Cli;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AuditAgent.Web;

/// <summary>What the commands that serve the console say when it is up: where it is and whether people can sign in.</summary>
internal static class ConsoleStart
{
    /// <summary>Web:PublicUrl when set, else the addresses Kestrel bound.</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetRequiredService<IOptions<WebOptions>>().Value.PublicUrl is { Length: > 0 } pub ? [pub.TrimEnd('/')] : Bound(app);
    }

    /// <summary>The addresses Kestrel bound (a port 0 resolved).</summary>
    public static IReadOnlyList<string> Bound(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
    }

    /// <summary>Prints the console's URL, or why nobody could sign in yet (without stopping the scheduled jobs).</summary>
    public static async Task AnnounceAsync(WebApplication app, Terminal terminal)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(terminal);
        await terminal.Error.WriteLineAsync($"Console: {string.Join(", ", Addresses(app))}");
        try
        {
            app.Services.GetRequiredService<SignInSettings>().Apply(new Microsoft.AspNetCore.Authentication.OpenIdConnect.OpenIdConnectOptions());
        }
        catch (ExplainedException ex)
        {
            await terminal.Error.WriteLineAsync($"warning: nobody can sign in to the console yet: {ex.Message}");
        }
    }
}
