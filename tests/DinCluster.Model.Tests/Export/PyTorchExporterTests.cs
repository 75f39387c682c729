using System.Diagnostics;
using System.Text.Json;
using DinCluster.Core.Batches;
using DinCluster.Core.Features;
using DinCluster.Model.Export;
using DinCluster.Model.Networks;
using DinCluster.Model.Tests.Support;
using Xunit.Abstractions;

namespace DinCluster.Model.Tests.Export;

[Collection(TorchCollection.Name)]
public sealed class PyTorchExporterTests(ITestOutputHelper output) : IDisposable
{
    private static readonly FeatureSchema Schema = FeatureSchema.Default(dim: 4, maxLen: 5);
    private readonly string _directory = Directory.CreateTempSubdirectory("dincluster-export-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Read_returns_every_key_shape_and_value_when_a_model_was_written()
    {
        using var net = Network(seed: 61);
        var tables = Tables(seed: 61);
        var path = Path.Combine(_directory, "model.pt");

        PyTorchExporter.Write(path, net, tables);
        var state = PyTorchExporter.Read(path);

        Assert.Equal(ExpectedKeys(net).Order(), state.Keys.Order());
        var dense = net.GetDense();
        foreach (var slot in net.DenseLayout.Slots)
        {
            Assert.Equal(ExportedTensor.Float32, state[slot.Name].DType);
            Assert.Equal(slot.Shape, state[slot.Name].Shape);
            Assert.Equal(dense.AsSpan(slot.Offset, slot.Count).ToArray(), state[slot.Name].Floats);
        }
        var buffers = net.GetBuffers();
        foreach (var slot in net.BufferLayout.Slots)
            Assert.Equal(buffers.AsSpan(slot.Offset, slot.Count).ToArray(), state[slot.Name].Floats);
        foreach (var table in tables)
        {
            var ids = state[$"embedding.{table.Table}.ids"];
            var weight = state[$"embedding.{table.Table}.weight"];
            Assert.Equal(ExportedTensor.Int64, ids.DType);
            Assert.Equal(table.Ids, ids.Longs);
            Assert.Equal([table.Ids.Length, table.Dim], weight.Shape);
            Assert.Equal(table.Values, weight.Floats);
        }
    }

    [Fact]
    public void Write_replaces_an_existing_file_and_leaves_no_temporary_behind()
    {
        using var net = Network(seed: 62);
        var path = Path.Combine(_directory, "model.pt");
        File.WriteAllBytes(path, new byte[10_000_000]);

        PyTorchExporter.Write(path, net, Tables(seed: 62));

        Assert.Equal(["model.pt"], Directory.GetFiles(_directory).Select(Path.GetFileName));
        Assert.True(new FileInfo(path).Length < 10_000_000);
        Assert.NotEmpty(PyTorchExporter.Read(path));
    }

    [Fact]
    public void Write_rejects_a_table_when_its_rows_do_not_match_its_ids()
    {
        using var net = Network(seed: 63);
        var bad = new TableRows("item", 4, [1, 2, 3], new float[11]);
        var e = Assert.Throws<ArgumentException>(() => PyTorchExporter.Write(Path.Combine(_directory, "bad.pt"), net, [bad]));
        Assert.Contains("table 'item'", e.Message);
        Assert.Empty(Directory.GetFiles(_directory));
    }

    [Fact]
    public void Write_produces_a_state_dict_that_python_torch_loads_when_torch_is_installed()
    {
        var python = FindPythonWithTorch(out var reason);
        if (python is null)
        {
            output.WriteLine($"SKIPPED: {reason}");
            return;
        }
        output.WriteLine($"using {python}");
        using var net = Network(seed: 64);
        var tables = Tables(seed: 64);
        var path = Path.Combine(_directory, "model.pt");
        PyTorchExporter.Write(path, net, tables);

        const string script = """
            import json, sys, torch
            sd = torch.load(sys.argv[1], map_location="cpu", weights_only=True)
            print(json.dumps({k: [str(v.dtype).replace("torch.", ""), list(v.shape), float(v.double().sum())] for k, v in sd.items()}))
            """;
        var (code, stdout, stderr) = Run(python, ["-c", script, path]);
        Assert.True(code == 0, $"python failed ({code}): {stderr}");
        var loaded = JsonSerializer.Deserialize<Dictionary<string, JsonElement[]>>(stdout)!;

        var written = PyTorchExporter.Read(path);
        Assert.Equal(ExpectedKeys(net).Order(), loaded.Keys.Order());
        foreach (var (key, value) in loaded)
        {
            var expected = written[key];
            Assert.Equal(expected.DType, value[0].GetString());
            Assert.Equal(expected.Shape, value[1].EnumerateArray().Select(e => e.GetInt64()).ToArray());
            var sum = expected.DType == ExportedTensor.Int64 ? expected.Longs.Sum() : expected.Floats.Sum(f => (double)f);
            Assert.True(Math.Abs(sum - value[2].GetDouble()) < 1e-4 * Math.Max(1, Math.Abs(sum)), $"{key}: python sums {value[2].GetDouble()}, written {sum}");
        }
    }

    private static DinNetwork Network(int seed)
    {
        var net = new DinNetwork(Schema, new ModelSettings
        {
            Seed = seed,
            AttentionHidden = [6, 4],
            AttentionActivation = Activation.Dice,
            MlpHidden = [5, 3],
        });
        // One train step so the running statistics are not at their initial values.
        var batch = TestData.Random(Schema, [2, 3, 0], seed);
        var index = BatchIndex.Build(batch, Schema);
        net.TrainStep(batch, index, TestData.Rows(Schema, index, seed));
        return net;
    }

    private static TableRows[] Tables(int seed) =>
        Schema.Tables.Select((t, i) =>
        {
            var ids = Enumerable.Range(0, 3 + i).Select(r => (long)r * 1_000_003 + i).ToArray();
            return new TableRows(t.Name, t.Dim, ids, TestData.RandomVector(ids.Length * t.Dim, seed + i, 1));
        }).ToArray();

    private static IEnumerable<string> ExpectedKeys(DinNetwork net) =>
        net.DenseLayout.Slots.Select(s => s.Name)
            .Concat(net.BufferLayout.Slots.Select(s => s.Name))
            .Concat(Schema.Tables.SelectMany(t => new[] { $"embedding.{t.Name}.ids", $"embedding.{t.Name}.weight" }));

    /// <summary>DINCLUSTER_PYTHON, else python3 on PATH, else the system's /usr/bin/python3 (Debian's python3-torch).</summary>
    private static string? FindPythonWithTorch(out string reason)
    {
        var candidates = new[] { Environment.GetEnvironmentVariable("DINCLUSTER_PYTHON"), "python3", "/usr/bin/python3" }
            .Where(c => !string.IsNullOrEmpty(c)).Distinct().ToList();
        var tried = new List<string>();
        foreach (var candidate in candidates)
        {
            try
            {
                var (code, _, stderr) = Run(candidate!, ["-c", "import torch"]);
                if (code == 0) { reason = ""; return candidate; }
                tried.Add($"{candidate}: {stderr.Trim().Split('\n').LastOrDefault()}");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                tried.Add($"{candidate}: {e.Message}");
            }
        }
        reason = $"no python with torch importable ({string.Join("; ", tried)}); install python3-torch or set DINCLUSTER_PYTHON";
        return null;
    }

    private static (int Code, string Stdout, string Stderr) Run(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill();
            throw new TimeoutException($"{file} did not finish within 2 minutes");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
