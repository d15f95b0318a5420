namespace AuditAgent.Core.Detection;

/// <summary>Where a message names an address.</summary>
public enum RecipientRole
{
    /// <summary>The sending mailbox's, from's or sender's address: never counted as outside.</summary>
    Own = 1,

    /// <summary>To or Cc.</summary>
    Visible = 2,

    Bcc = 4,
}

/// <summary>
/// Counts one message's distinct recipients from their normalised addresses as UTF-8 (<see cref="EmailAddress"/>
/// values): who is visible (To or Cc), who is in Bcc, who is outside (not the sender's own address, not at an
/// internal domain) and at how many domains. The one place these counts are made: the detector feeds it parsed
/// addresses, the scan's fast path feeds it addresses straight from Graph's JSON, so most messages are counted
/// without a string being made. Reused per thread; the order addresses are added in does not change the counts.
/// </summary>
public sealed class RecipientTally
{
    [ThreadStatic]
    private static RecipientTally? s_perThread;

    private Entry[] _entries = new Entry[32];
    private int[] _slots = new int[64];
    private byte[] _text = new byte[4096];
    private int _count;
    private int _used;
    private InternalDomains? _internal;

    /// <summary>What an entry is; the first three are <see cref="RecipientRole"/>'s values.</summary>
    [Flags]
    private enum Roles : byte
    {
        Own = 1,
        Visible = 2,
        Bcc = 4,
        Internal = 8,
        Taken = 16,
    }

    private struct Entry
    {
        public int Start;
        public int Length;
        public int At;
        public int Hash;
        public int DomainHash;
        public Roles Roles;
    }

    /// <summary>This thread's tally, emptied, for one message (synchronous use only: nothing may await in between).</summary>
    public static RecipientTally Start(InternalDomains internalDomains)
    {
        ArgumentNullException.ThrowIfNull(internalDomains);
        var tally = s_perThread ??= new RecipientTally();
        tally._internal = internalDomains;
        tally._count = 0;
        tally._used = 0;
        if (tally._slots.Length > 256)
        {
            tally._slots = new int[64]; // after a message to hundreds: do not clear a big table for every small one
        }
        else
        {
            Array.Clear(tally._slots);
        }

        return tally;
    }

    /// <returns>The address's entry in this message (the same for the same address again).</returns>
    public int Add(ReadOnlySpan<byte> address, RecipientRole role)
    {
        var hash = HashOf(address);
        var mask = _slots.Length - 1;
        var slot = hash & mask;
        while (_slots[slot] != 0)
        {
            ref var found = ref _entries[_slots[slot] - 1];
            if (found.Hash == hash && Text(found).SequenceEqual(address))
            {
                found.Roles |= (Roles)role;
                return _slots[slot] - 1;
            }

            slot = (slot + 1) & mask;
        }

        var at = address.LastIndexOf((byte)'@');
        var domain = address[(at + 1)..];
        var entry = new Entry
        {
            Start = Store(address),
            Length = address.Length,
            At = at,
            Hash = hash,
            DomainHash = HashOf(domain),
            Roles = (Roles)role | (_internal!.Contains(domain) ? Roles.Internal : 0),
        };
        if (_count == _entries.Length)
        {
            Array.Resize(ref _entries, _count * 2);
        }

        _entries[_count++] = entry;
        _slots[slot] = _count;
        if (_count * 2 > _slots.Length)
        {
            Rehash();
        }

        return _count - 1;
    }

    /// <summary>Distinct outside addresses in Bcc: what makes a message a Bcc mailing.</summary>
    public int ExternalBcc
    {
        get
        {
            var n = 0;
            for (var i = 0; i < _count; i++)
            {
                n += (_entries[i].Roles & Roles.Bcc) != 0 && IsOutside(_entries[i]) ? 1 : 0;
            }

            return n;
        }
    }

    /// <summary>Whether an entry is outside: neither the sender's own address nor at an internal domain.</summary>
    public bool IsOutside(int entry) => IsOutside(_entries[entry]);

    /// <summary>An entry's address, as it was added.</summary>
    public ReadOnlySpan<byte> AddressAt(int entry) => Text(_entries[entry]);

    /// <summary>
    /// True the first time it is asked about an outside entry, false for any other or again: how a Bcc mailing's
    /// outside recipients are listed once each, in the order they appear.
    /// </summary>
    public bool TakeOutside(int entry)
    {
        ref var e = ref _entries[entry];
        var take = IsOutside(e) && (e.Roles & Roles.Taken) == 0;
        e.Roles |= Roles.Taken;
        return take;
    }

    public MessageCounts Counts()
    {
        int visibleExternal = 0, external = 0, all = 0, bcc = 0, domains = 0;
        for (var i = 0; i < _count; i++)
        {
            var e = _entries[i];
            if ((e.Roles & (Roles.Visible | Roles.Bcc)) == 0)
            {
                continue;
            }

            all++;
            bcc += (e.Roles & Roles.Bcc) != 0 ? 1 : 0;
            if (!IsOutside(e))
            {
                continue;
            }

            external++;
            visibleExternal += (e.Roles & Roles.Visible) != 0 ? 1 : 0;
            domains += FirstOutsideAtDomain(i) ? 1 : 0;
        }

        return new MessageCounts(visibleExternal, external, all, domains, bcc);
    }

    private static bool IsOutside(in Entry e) => (e.Roles & (Roles.Own | Roles.Internal)) == 0;

    /// <summary>Whether no earlier outside address has this entry's domain (a domain is counted at its first address).</summary>
    private bool FirstOutsideAtDomain(int index)
    {
        var e = _entries[index];
        var domain = Domain(e);
        for (var j = 0; j < index; j++)
        {
            var other = _entries[j];
            if (other.DomainHash == e.DomainHash && (other.Roles & (Roles.Visible | Roles.Bcc)) != 0 && IsOutside(other) && Domain(other).SequenceEqual(domain))
            {
                return false;
            }
        }

        return true;
    }

    private ReadOnlySpan<byte> Text(in Entry e) => _text.AsSpan(e.Start, e.Length);

    private ReadOnlySpan<byte> Domain(in Entry e) => _text.AsSpan(e.Start + e.At + 1, e.Length - e.At - 1);

    private int Store(ReadOnlySpan<byte> address)
    {
        if (_used + address.Length > _text.Length)
        {
            Array.Resize(ref _text, Math.Max(_text.Length * 2, _used + address.Length));
        }

        address.CopyTo(_text.AsSpan(_used));
        _used += address.Length;
        return _used - address.Length;
    }

    private void Rehash()
    {
        _slots = new int[_slots.Length * 2];
        var mask = _slots.Length - 1;
        for (var i = 0; i < _count; i++)
        {
            var slot = _entries[i].Hash & mask;
            while (_slots[slot] != 0)
            {
                slot = (slot + 1) & mask;
            }

            _slots[slot] = i + 1;
        }
    }

    private static int HashOf(ReadOnlySpan<byte> text)
    {
        var hash = new HashCode();
        hash.AddBytes(text);
        return hash.ToHashCode() & int.MaxValue;
    }
}
