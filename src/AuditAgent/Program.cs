using AuditAgent.Cli;

return await CommandLine.InvokeAsync(args);
