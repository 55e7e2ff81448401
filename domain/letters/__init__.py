"""Letters to a citizen: what each kind says, the sections and Danish texts they share, and the rules every letter passes."""
