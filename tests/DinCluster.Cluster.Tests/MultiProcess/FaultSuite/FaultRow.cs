using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DinCluster.Cluster.Tests.MultiProcess.FaultSuite;

/// <summary>
/// One row of the fault-suite table (scripts/fault-suite prints them): written as
/// DINCLUSTER_FAULT_REPORT_DIR/&lt;scenario&gt;.json (default TestResults/fault-suite under the checkout).
/// Outcome is "passed", "failed" or "skipped: reason".
/// </summary>
public sealed record FaultRow(
    string Scenario,
    string Outcome,
    long? SamplesConsumed,
    long? SamplesExpected,
    long? SamplesReplayed,
    double? TestAuc,
    double? BaselineAuc,
    double? RecoverySeconds,
    string Note)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string ReportDir
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("DINCLUSTER_FAULT_REPORT_DIR");
            if (string.IsNullOrEmpty(dir)) dir = Path.Combine(LocalClusterScript.RepoRoot, "TestResults", "fault-suite");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    /// <summary>
    /// Runs a test body that returns its row and writes it; when the body throws, writes a "failed" row naming
    /// the first line of the error, and rethrows.
    /// </summary>
    public static async Task<FaultRow> Record(string scenario, Func<Task<FaultRow>> body)
    {
        try
        {
            var row = await body();
            row.Write();
            return row;
        }
        catch (Exception e)
        {
            new FaultRow(scenario, "failed", null, null, null, null, null, null, e.Message.Split('\n')[0]).Write();
            throw;
        }
    }

    /// <summary>Writes the row (replacing an older one of the scenario); returns its path.</summary>
    public string Write()
    {
        var path = Path.Combine(ReportDir, Scenario + ".json");
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(this, Json));
        File.Move(path + ".tmp", path, overwrite: true);
        return path;
    }
}
