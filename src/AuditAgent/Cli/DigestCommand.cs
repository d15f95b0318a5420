using System.CommandLine;
using AuditAgent.Notifications;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Cli;

internal static class DigestCommand
{
    public static Command Create(Terminal terminal)
    {
        var preview = new Option<bool>("--preview") { Description = "Render today's digest without sending it." };
        var output = new Option<string?>("--out") { Description = "With --preview: write the HTML here (the plain-text part goes next to it as .txt)." };
        var force = OutputFile.ForceOption();
        var send = new Option<bool>("--send") { Description = "Send today's digest now (once per day and recipient list, as the schedule would)." };
        var command = new Command("digest", "Preview or send the daily findings digest.") { preview, output, force, send };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            if (parse.GetValue(preview) == parse.GetValue(send))
            {
                throw new CliException("give --preview or --send.");
            }

            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct, readOnly: parse.GetValue(preview));
            if (parse.GetValue(send))
            {
                var run = await host.Services.GetRequiredService<DigestService>().SendAsync(ct);
                await terminal.Output.WriteLineAsync($"{run.Reason}; sent {run.Delivery.Sent}, failed {run.Delivery.Failed}.");
                return run.Delivery.Failed > 0 ? ExitCodes.Failure : ExitCodes.Ok;
            }

            var digest = await host.Services.GetRequiredService<DigestComposer>().RenderAsync(ct);
            if (parse.GetValue(output) is { } file)
            {
                // The plain-text part goes beside the HTML as .txt; asked for x.txt, the HTML becomes x.html.
                var text = Path.ChangeExtension(file, ".txt");
                var html = string.Equals(Path.GetFullPath(text), Path.GetFullPath(file), StringComparison.Ordinal) ? Path.ChangeExtension(file, ".html") : file;
                await OutputFile.WriteAsync(html, digest.Html, parse.GetValue(force), ct);
                await OutputFile.WriteAsync(text, digest.Text, parse.GetValue(force), ct);
                await terminal.Output.WriteLineAsync($"{digest.Subject}\nWrote {Path.GetFullPath(html)} and {Path.GetFullPath(text)}.");
            }
            else
            {
                await terminal.Output.WriteAsync(digest.Text);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }
}
