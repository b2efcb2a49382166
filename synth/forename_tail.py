"""More forenames given in Britain, rarer than the British pool's own, for studies of name diversity:
`PopulationConfig.british_forename_tail` adds the first so many of each list after the British pool's
boys' and girls' forenames (names.british_forename_tail drops any name a pool already holds, as a
forename or a surname, any invented surname, and any name of the nickname and spelling-variant
tables, which identity noise swaps for another). Nicknames and other spellings of the pool's names
(Ollie, Lilly, Caitlyn) are left out: they would add little evidence beyond the pool's.

Kept out of names.py's pools on purpose, as surname_tail's are: school names avoid every word of a
name the generator can give a pupil (school_names), so the authorities generated without these names
keep their school names and their random draws.
"""

from __future__ import annotations

BOYS: tuple[str, ...] = tuple(
    """
    Adam Adrian Aidan Alan Albert Alistair Andrew Angus Arlo Arthur Barney Barry Beau
    Bernard Blake Brian Brody Bruce Bryn Caleb Callan Calvin Carl Casey Christian
    Ciaran Clive Cody Colin Corey Craig Curtis Dafydd Damian Damon Darius Darren David Dean Declan
    Dennis Derek Dexter Dion Dominic Donald Douglas Duncan Edward Eoin Eric Ernest Ewan
    Ezra Felix Fergus Finn Francis Gabriel Gary Gavin Geoffrey Gerald Gethin Gordon
    Graham Gregory Hamish Harley Hayden Hugo Iwan Ian Isaac Jason Jasper Jay Jeffrey Jesse Jordan Jude
    Julian Justin Karl Keith Kenneth Kevin Lawrence Lennon Leonard Louis Lyle Marcus Mark
    Marvin Maxwell Miles Milo Neil Nicholas Nico Nigel Norman Otis Patrick Paul Peter Philip
    Quinn Ralph Raymond Reggie Reuben Richard Robert Robin Roger Ronan Rory Ross Rowan Roy Rufus Rupert
    Sean Sebastian Seth Shane Simon Sonny Spencer Stanley Stephen Steven Stuart Terry Timothy
    Tobias Travis Trevor Tristan Troy Vincent Wayne Wesley Wilfred Xavier
    """.split()
)

GIRLS: tuple[str, ...] = tuple(
    """
    Ada Alice Alicia Alisha Amanda Amy Anna Annabel Aria Arabella Aurora Beatrice
    Bonnie Bridget Carly Caroline Catherine Chelsea Clara Claudia
    Danielle Dawn Deborah Delilah Eden Edith Eliza Ellen Eloise Elsa Emilia Emma Esme Esther Eva
    Evelyn Faith Faye Felicity Fiona Florence Francesca Gemma Georgina Gwen Hallie Hayley
    Heather Heidi Helen Hope Ivy Jasmine Jennifer Joanna Jodie Josephine Julia Juliet
    Karen Kayla Kerry Kirsty Lara Laura Leanne Lena Linda Lisa
    Lois Louise Lucia Lucy Lydia Mabel Macy Maria Marnie Martha Mary Maya Melissa
    Molly Naomi Natalie Nicole Nina Orla Penelope Philippa Rachel Robyn Rose
    Sadie Sarah Sasha Savannah Serena Sharon Sian Skye Stella Stephanie Susan
    Tamsin Tara Tessa Tracey Victoria Violet Zara Zoe Aoife Carys Ffion Seren
    Cerys Nia Elin Orlaith Roisin Saoirse Siobhan Mairead Eilidh Isobel Kirsten Morven Agnes Anya
    Astrid Belinda Bethan Briony Cara Cecily Celia Clare Cora Daphne Delia Edie Elspeth Emmeline Erica
    Fern Flora Freda Gillian Greta Hazel Iris Isadora Jane Janet Joan Joy June Kathleen Keeley Laurel
    Lorna Lowri Madeleine Margaret Marion Maxine Mina Miriam Moira Nancy Nora Olwen Pamela Pearl
    Rhiannon Rowena Ruth Selina Sheila Sylvia Thea Una Vera Wendy Winifred Yvonne
    """.split()
)
