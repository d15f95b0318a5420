using System.CommandLine;
using AuditAgent.Breach;
using AuditAgent.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AuditAgent.Cli;

/// <summary>`incidents notice`: the drafted notification to the supervisory authority (GDPR Art. 33(3)) as Markdown, HTML or Word.</summary>
internal static class NoticeCommand
{
    public static Command Create(Terminal terminal)
    {
        var id = IncidentsCommand.IdArgument();
        var format = new Option<string>("--format") { Description = "md, html or docx (docx needs --out).", DefaultValueFactory = _ => "md" };
        format.AcceptOnlyFromAmong("md", "html", "docx");
        var output = new Option<string?>("--out") { Description = "Write to this file (created readable by you only) instead of standard output." };
        var force = OutputFile.ForceOption();
        var to = new Option<string>("--to") { Description = "authority (Art. 33(3), md, html or docx) or subjects (the notice to the people, Art. 34(2), plain text from subjects-notice.liquid).", DefaultValueFactory = _ => "authority" };
        to.AcceptOnlyFromAmong("authority", "subjects");
        var command = new Command("notice", "Draft the notification to the supervisory authority from what the agent knows; what only a person knows is marked [TO FILL]. Never an address.")
        {
            id, to, format, output, force,
        };
        command.SetAction((parse, ct) => CommandLine.RunAsync(terminal, parse, async () =>
        {
            var file = parse.GetValue(output);
            if (parse.GetValue(to) == "subjects" && parse.GetValue(format) != "md")
            {
                throw new CliException("the notice to the people is plain text, one message per person: leave out --format.");
            }

            if (parse.GetValue(format) == "docx" && file is null)
            {
                throw new CliException("--format docx writes a file: give --out FILE.");
            }

            using var host = await CommandLine.DatabaseHostAsync(parse, terminal, ct, readOnly: true);
            var n = parse.GetValue(id);
            if (parse.GetValue(to) == "subjects")
            {
                var (subject, body) = await host.Services.GetRequiredService<Notices>().SubjectsAsync(n, ct) ?? throw new NotFoundException($"there is no incident {n}.");
                var plain = $"Subject: {subject}\n\n{body}";
                await (file is null ? terminal.Output.WriteAsync(plain) : OutputFile.WriteAsync(file, plain, parse.GetValue(force), ct));
                return ExitCodes.Ok;
            }

            var notice = await host.Services.GetRequiredService<Notices>().AuthorityAsync(n, ct) ?? throw new NotFoundException($"there is no incident {n}.");
            if (file is null)
            {
                await terminal.Output.WriteAsync(parse.GetValue(format) == "html" ? notice.Html() : notice.Markdown());
                return ExitCodes.Ok;
            }

            await (parse.GetValue(format) switch
            {
                "docx" => OutputFile.WriteAsync(file, notice.Docx(), parse.GetValue(force), ct),
                "html" => OutputFile.WriteAsync(file, notice.Html(), parse.GetValue(force), ct),
                _ => OutputFile.WriteAsync(file, notice.Markdown(), parse.GetValue(force), ct),
            });
            await terminal.Output.WriteLineAsync($"Wrote the draft notification for incident {n} to {Path.GetFullPath(file)}.");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
