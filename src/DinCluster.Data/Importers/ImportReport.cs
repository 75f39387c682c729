using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DinCluster.Data.Importers;

/// <summary>DIR/import.json: what an import read, wrote, skipped, and how fast.</summary>
public sealed class ImportReport
{
    public const string FileName = "import.json";

    public string Importer { get; set; } = "";
    public List<string> Inputs { get; set; } = [];
    public string Split { get; set; } = "";
    public ulong Seed { get; set; }
    /// <summary>0 = histories as given / unlimited.</summary>
    public int MaxHistory { get; set; }

    /// <summary>Data lines read (headers and blank lines not counted), over every input file.</summary>
    public long RowsRead { get; set; }
    public Dictionary<string, long> RowsReadByFile { get; set; } = [];

    public SplitReport Train { get; set; } = new();
    public SplitReport Test { get; set; } = new();

    /// <summary>Distinct users / items / categories among the events (or samples) kept.</summary>
    public long Users { get; set; }
    public long Items { get; set; }
    public long Categories { get; set; }

    public long SkippedLines { get; set; }
    /// <summary>Skipped lines by reason (not_a_number, wrong_column_count, ...), under --on-bad-input skip.</summary>
    public Dictionary<string, long> SkippedByReason { get; set; } = [];
    /// <summary>The first few skipped lines' messages (file, line, what is wrong).</summary>
    public List<string> SkippedExamples { get; set; } = [];

    /// <summary>Samples whose history was cut to max_history (most recent kept).</summary>
    public long TruncatedHistories { get; set; }

    public double Seconds { get; set; }
    /// <summary>RowsRead / Seconds, the whole import (reading, partitioning, building, writing).</summary>
    public double RowsPerSecond { get; set; }
    public double SamplesPerSecond { get; set; }

    /// <summary>Per-user partitions pass 2 loaded (more than pass 1 wrote when some had to be re-split).</summary>
    public int Partitions { get; set; }
    public long MemoryBudgetBytes { get; set; }

    /// <summary>How ids were made from the input (integers as they are, strings hashed).</summary>
    public string IdMapping { get; set; } = "";
    /// <summary>Importer-specific figures (e.g. Amazon's sampled negatives).</summary>
    public Dictionary<string, double> Extra { get; set; } = [];
    public List<string> Warnings { get; set; } = [];

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public void Save(string dir)
    {
        var path = Path.Combine(dir, FileName);
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(this, Json));
        File.Move(path + ".tmp", path, overwrite: true);
    }

    public static ImportReport Load(string dir) =>
        JsonSerializer.Deserialize<ImportReport>(File.ReadAllText(Path.Combine(dir, FileName)), Json)
        ?? throw new InvalidDataException($"{Path.Combine(dir, FileName)} is empty");
}

public sealed class SplitReport
{
    public long Samples { get; set; }
    public long Positives { get; set; }
    /// <summary>Users with at least one sample in this split.</summary>
    public long Users { get; set; }
    /// <summary>Part files relative to DIR.</summary>
    public List<string> Files { get; set; } = [];
}
