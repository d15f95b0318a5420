using AuditAgent.Cli;

return await CommandLine.Build().Parse(args).InvokeAsync();
