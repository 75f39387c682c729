using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using DinCluster.Cli.Tests.Support;
using Xunit.Abstractions;

namespace DinCluster.Cli.Tests.Serving;

/// <summary>`dincluster serve` as its own process: it loads the checkpoint, listens, answers, and stops cleanly on SIGTERM.</summary>
[Collection(TorchCollection.Name)]
public sealed class ServeCommandTests(TrainedModel model, ITestOutputHelper output) : IClassFixture<TrainedModel>
{
    [Fact]
    [Trait("Category", "MultiProcess")]
    public async Task Serve_process_answers_over_http_and_stops_on_SIGTERM_with_a_summary()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { typeof(Program).Assembly.Location, "serve", "--model", model.Run, "--port", $"{port}", "--scorers", "1" })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var lines = new StringBuilder();
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (lines) lines.AppendLine(e.Data);
            if (e.Data.StartsWith("serving ", StringComparison.Ordinal)) listening.TrySetResult(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) lock (lines) lines.AppendLine("stderr: " + e.Data);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // deadline 90 s: the process loads the checkpoint and binds the port first
            var first = await Task.WhenAny(listening.Task, process.WaitForExitAsync()).WaitAsync(TimeSpan.FromSeconds(90));
            Assert.True(first == listening.Task, $"serve exited before listening (pid {process.Id}):\n{lines}");
            var line = await listening.Task;
            output.WriteLine(line);
            Assert.Contains($"http://127.0.0.1:{port}/", line);

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
            using var health = await http.GetAsync("health");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            using var body = new StringContent(TrainedModel.Json(model.TestSamples[0]).ToJsonString(), Encoding.UTF8, "application/json");
            using var answer = await http.PostAsync("predict", body);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            var p = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!["probability"]!.GetValue<float>();
            Assert.InRange(p, 0f, 1f);

            using (var kill = Process.Start("kill", ["-TERM", $"{process.Id}"])) await kill.WaitForExitAsync();
            using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(exited.Token);
            process.WaitForExit();   // drains the redirected output
            output.WriteLine(lines.ToString());
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("serve: stopped after 1 requests (1 samples scored, 0 bad requests, 0 failures)", lines.ToString());
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public void Bench_serve_measures_a_fresh_model_over_http()
    {
        Assert.Equal(0, Program.Main(["bench", "serve", "--requests", "20", "--batches", "1,8", "--scorers", "1", "--clients", "2"]));
    }
}
