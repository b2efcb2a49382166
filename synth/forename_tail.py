"""More English forenames, rarer than the British pool's own, for studies of name diversity:
`PopulationConfig.british_forename_tail` adds the first so many of each list after the British pool's
boys' and girls' forenames (names.british_forename_tail drops any name a pool already holds, as a
forename or a surname, and any invented surname).

Kept out of names.py's pools on purpose, as surname_tail's are: school names avoid every word of a
name the generator can give a pupil (school_names), so the authorities generated without these names
keep their school names and their random draws.
"""

from __future__ import annotations

BOYS: tuple[str, ...] = tuple(
    """
    Adam Adrian Aidan Alan Albert Alfred Alistair Andrew Angus Arlo Arthur Barney Barry Beau Ben
    Bernard Bertie Blake Bobby Brian Brody Bruce Bryn Caleb Callan Calvin Carl Casey Charles Christian
    Ciaran Clive Cody Colin Corey Craig Curtis Dafydd Damian Damon Darius Darren David Dean Declan
    Dennis Derek Dexter Dion Dominic Donald Douglas Duncan Eddie Edward Elliot Eoin Eric Ernest Ewan
    Ezra Felix Fergus Finn Francis Frank Frederick Gabriel Gary Gavin Geoffrey Gerald Gethin Gordon
    Graham Gregory Hamish Harley Hayden Hugo Iwan Ian Isaac Jason Jasper Jay Jeffrey Jesse Jordan Jude
    Julian Justin Karl Keith Kenneth Kevin Kyran Lawrence Lenny Lennon Leonard Louis Lyle Marcus Mark
    Marvin Maxwell Miles Milo Neil Nicholas Nico Nigel Norman Ollie Otis Owain Patrick Paul Peter Philip
    Quinn Ralph Raymond Reggie Reuben Richard Robert Robin Roger Ronan Rory Ross Rowan Roy Rufus Rupert
    Sam Sean Sebastian Seth Shane Simon Sonny Spencer Stanley Stephen Steven Stuart Terry Timothy
    Tobias Travis Trevor Tristan Troy Vincent Vinnie Wayne Wesley Wilf Wilfred Xavier Zac Zane
    """.split()
)

GIRLS: tuple[str, ...] = tuple(
    """
    Abbie Ada Aimee Alice Alicia Alisha Amanda Amy Anna Annabel Annie Aria Arabella Aurora Beatrice
    Bella Bonnie Bridget Caitlyn Carly Caroline Cassie Catherine Charley Chelsea Clara Claudia
    Danielle Darcie Dawn Deborah Delilah Eden Edith Eliza Ellen Eloise Elsa Emilia Emma Esme Esther Eva
    Evelyn Faith Faye Felicity Fiona Florence Frances Francesca Gemma Georgina Gracie Gwen Hallie Hayley
    Heather Heidi Helen Hollie Hope Ivy Jasmine Jennifer Jenna Joanna Jodie Josephine Julia Juliet
    Karen Kate Kayla Kelsey Kerry Kirsty Lacie Lara Laura Leanne Lena Lexie Libby Lilly Linda Lisa
    Lois Lottie Louise Lucia Lucy Lydia Mabel Macy Maddison Maria Marnie Martha Mary Maya Melissa
    Mollie Molly Naomi Natalie Nell Nicole Nina Orla Penelope Philippa Pippa Rachel Rebekah Robyn Rose
    Rosa Sadie Sarah Sasha Savannah Serena Sharon Sian Skye Sofia Sophia Stella Stephanie Susan
    Tamsin Tara Tessa Tilly Toni Tracey Victoria Violet Zara Zoe Abigayle Aoife Carys Ffion Seren
    Cerys Nia Elin Orlaith Roisin Saoirse Siobhan Mairead Eilidh Isobel Kirsten Morven
    """.split()
)
