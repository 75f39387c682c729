using System.Globalization;
using System.Text.Json;

namespace DinCluster.Core.Checkpoints;

/// <summary>
/// Checkpoints under one folder, committed atomically:
/// <code>
///   ckpt-000000001200.tmp/   being written: files, then manifest.json (checksums) last
///        │ rename (atomic on one file system)
///        v
///   ckpt-000000001200/       committed; the newest whose checksums verify is "latest"
/// </code>
/// A crash mid-write leaves a .tmp folder that is ignored (and removed by the next writer),
/// so the previous checkpoint stays loadable.
/// </summary>
public sealed class CheckpointStore(string root, int keep = 3)
{
    private const string Prefix = "ckpt-";
    private const string TmpSuffix = ".tmp";
    public string Root { get; } = root;

    /// <summary>Starts checkpoint <paramref name="step"/>: returns an empty folder to write files into.</summary>
    public PendingCheckpoint Begin(long step)
    {
        Directory.CreateDirectory(Root);
        foreach (var stale in Directory.GetDirectories(Root, Prefix + "*" + TmpSuffix))
            Directory.Delete(stale, recursive: true);
        var dir = Path.Combine(Root, Name(step) + TmpSuffix);
        Directory.CreateDirectory(dir);
        return new PendingCheckpoint(this, step, dir);
    }

    internal string Commit(PendingCheckpoint pending, CheckpointManifest manifest)
    {
        manifest.Step = pending.Step;
        manifest.CreatedUtc = DateTime.UtcNow;
        manifest.Files = Directory.GetFiles(pending.Directory)
            .Where(f => Path.GetFileName(f) != "manifest.json")
            .OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => new CheckpointFile(Path.GetFileName(f), new FileInfo(f).Length, CheckpointManifest.Sha256Of(f)))
            .ToList();
        var manifestPath = Path.Combine(pending.Directory, "manifest.json");
        using (var s = new FileStream(manifestPath, FileMode.CreateNew, FileAccess.Write))
        {
            JsonSerializer.Serialize(s, manifest, CheckpointManifest.Json);
            s.Flush(flushToDisk: true);
        }
        var final = Path.Combine(Root, Name(pending.Step));
        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
        Directory.Move(pending.Directory, final);
        Prune();
        return final;
    }

    /// <summary>Committed checkpoints, newest first (not yet verified).</summary>
    public IEnumerable<string> Committed() =>
        !Directory.Exists(Root)
            ? []
            : Directory.GetDirectories(Root, Prefix + "*")
                .Where(d => !d.EndsWith(TmpSuffix, StringComparison.Ordinal))
                .OrderByDescending(d => d, StringComparer.Ordinal);

    /// <summary>
    /// The newest checkpoint whose manifest and checksums verify. Each one refused is
    /// reported to <paramref name="refused"/> by folder and reason.
    /// </summary>
    public (string Directory, CheckpointManifest Manifest)? Latest(Action<string, string>? refused = null)
    {
        foreach (var dir in Committed())
        {
            var problem = Verify(dir, out var manifest);
            if (problem is null) return (dir, manifest!);
            refused?.Invoke(dir, problem);
        }
        return null;
    }

    /// <summary>Null when <paramref name="dir"/> is a valid checkpoint, else what is wrong with it.</summary>
    public static string? Verify(string dir, out CheckpointManifest? manifest)
    {
        manifest = null;
        var path = Path.Combine(dir, "manifest.json");
        if (!File.Exists(path)) return "manifest.json is missing";
        try
        {
            manifest = JsonSerializer.Deserialize<CheckpointManifest>(File.ReadAllText(path), CheckpointManifest.Json);
        }
        catch (JsonException e)
        {
            return $"manifest.json is not valid JSON ({e.Message})";
        }
        if (manifest is null) return "manifest.json is empty";
        if (manifest.Format != CheckpointManifest.CurrentFormat) return $"format {manifest.Format}, this build reads {CheckpointManifest.CurrentFormat}";
        foreach (var f in manifest.Files)
        {
            var file = Path.Combine(dir, f.Name);
            if (!File.Exists(file)) return $"{f.Name} is missing";
            var bytes = new FileInfo(file).Length;
            if (bytes != f.Bytes) return $"{f.Name} has {bytes} bytes, manifest says {f.Bytes}";
            if (CheckpointManifest.Sha256Of(file) != f.Sha256) return $"{f.Name} fails its SHA-256 checksum";
        }
        return null;
    }

    /// <summary>Opens a checkpoint folder given by the user: verified, or an error naming what is wrong.</summary>
    public static CheckpointManifest Open(string dir)
    {
        var problem = Verify(dir, out var manifest);
        return problem is null ? manifest! : throw new InvalidDataException($"checkpoint {dir}: {problem}");
    }

    private void Prune()
    {
        foreach (var old in Committed().Skip(keep))
            Directory.Delete(old, recursive: true);
    }

    private static string Name(long step) => Prefix + step.ToString("D12", CultureInfo.InvariantCulture);
}

/// <summary>A checkpoint being written; nothing is visible until <see cref="Commit"/>.</summary>
public sealed class PendingCheckpoint
{
    private readonly CheckpointStore _store;
    public long Step { get; }
    public string Directory { get; }

    internal PendingCheckpoint(CheckpointStore store, long step, string directory)
    {
        _store = store;
        Step = step;
        Directory = directory;
    }

    public string PathOf(string fileName) => System.IO.Path.Combine(Directory, fileName);

    /// <summary>Checksums every file, writes the manifest, and renames the folder into place.</summary>
    public string Commit(CheckpointManifest manifest) => _store.Commit(this, manifest);
}
